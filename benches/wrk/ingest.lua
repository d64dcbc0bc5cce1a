-- POST /api/v1/events, QB_BENCH_BATCH (default 1 000) new events a request; ids are unique
-- across threads, requests and runs (QB_BENCH_RUN), so every event is stored and counted.
-- An answer that does not accept the whole batch counts as unexpected. With
-- QB_BENCH_REQUESTS set, a thread stops after that many answers.

dofile(os.getenv("QB_BENCH_WRK_DIR") .. "/report.lua")

local run = os.getenv("QB_BENCH_RUN") or tostring(os.time())
local batch = tonumber(os.getenv("QB_BENCH_BATCH") or "1000")
local accepted = '"accepted":' .. batch .. ','
local limit = tonumber(os.getenv("QB_BENCH_REQUESTS") or "0")
local sent = 0
local answered = 0

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = os.getenv("QB_BENCH_KEY")

function request()
  sent = sent + 1
  local prefix = run .. "-" .. thread_number .. "-" .. sent .. "-"
  local events = {}
  for i = 1, batch do
    events[i] = '{"id":"' .. prefix .. i .. '","metric":"apiCalls","quantity":1,' ..
      '"account":"account-' .. (i % 16) .. '"}'
  end
  return wrk.format(nil, nil, nil, '{"events":[' .. table.concat(events, ",") .. ']}')
end

function response(status, headers, body)
  if status ~= 200 or not string.find(body, accepted, 1, true) then
    unexpected = unexpected + 1
  end
  answered = answered + 1
  if limit > 0 and answered >= limit then
    wrk.thread:stop()
  end
end
