"""schemathesis hooks for `make test-fuzz` (loaded through SCHEMATHESIS_HOOKS).

`POST /api/v1/events` checks each event of a batch on its own: a batch is answered 200 with
every event that breaks the documented event schema (or a rule) listed in `rejected`, and
stores none of those. So for that operation "negative data is rejected" means: every event
that does not match `EventInput` is in `rejected`, by index. This check asserts exactly that;
the generic status-code check is turned off for it in schemathesis.toml.
"""

import jsonschema_rs
import schemathesis

def _event_validator(case):
    """The document's own `EventInput` schema, as schemathesis loaded the document."""
    document = case.operation.schema.raw_schema
    return jsonschema_rs.Draft202012Validator(document["components"]["schemas"]["EventInput"])


@schemathesis.check
def invalid_events_are_rejected(ctx, response, case):
    """In a 200 answer to a batch, each event that breaks the event schema is rejected."""
    if case.path != "/api/v1/events" or response.status_code != 200:
        return None
    body = case.body
    events = body.get("events") if isinstance(body, dict) else None
    if not isinstance(events, list):
        raise AssertionError("a body without an `events` array was answered 200")
    report = response.json()
    rejected = {item["index"] for item in report.get("rejected", [])}
    validator = _event_validator(case)
    for index, event in enumerate(events):
        if not validator.is_valid(event) and index not in rejected:
            raise AssertionError(
                f"event {index} breaks the event schema but was not rejected: {event!r}"
            )
    stored = report.get("accepted", 0) + report.get("duplicates", 0)
    if stored + len(rejected) != len(events):
        raise AssertionError(
            f"{len(events)} events sent, but {stored} accepted or repeated and "
            f"{len(rejected)} rejected"
        )
    return None
