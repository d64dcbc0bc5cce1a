-- Shared by the wrk scripts: counts answers that are not what the benchmark expects and
-- prints one machine-readable line, `QB_RESULT {json}`, that benches/load.rs reads.
-- Latencies are in microseconds.

local threads = {}

function setup(thread)
  thread:set("thread_number", #threads + 1)
  table.insert(threads, thread)
end

unexpected = 0

function done(summary, latency, requests)
  local wrong = 0
  for _, thread in ipairs(threads) do
    wrong = wrong + (thread:get("unexpected") or 0)
  end
  local errors = summary.errors
  io.write(string.format(
    'QB_RESULT {"requests":%d,"duration_us":%d,"socket_errors":%d,"unexpected":%d,' ..
    '"p50_us":%d,"p90_us":%d,"p99_us":%d,"max_us":%d,"mean_us":%.0f}\n',
    summary.requests, summary.duration,
    errors.connect + errors.read + errors.write + errors.timeout,
    wrong + errors.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, latency.mean))
end
