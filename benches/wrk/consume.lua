-- POST /api/v1/entitlements/QB_BENCH_METRIC/consume, one unit a request; ids are unique
-- across threads, requests and runs (QB_BENCH_RUN), so every consume is a new one. Any
-- answer but 200 counts as unexpected.

dofile(os.getenv("QB_BENCH_WRK_DIR") .. "/report.lua")

local run = os.getenv("QB_BENCH_RUN") or tostring(os.time())
local sent = 0

wrk.method = "POST"
wrk.path = "/api/v1/entitlements/" .. os.getenv("QB_BENCH_METRIC") .. "/consume"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-api-key"] = os.getenv("QB_BENCH_KEY")

function request()
  sent = sent + 1
  return wrk.format(nil, nil, nil,
    '{"id":"consume-' .. run .. "-" .. thread_number .. "-" .. sent .. '","quantity":1}')
end

function response(status, headers, body)
  if status ~= 200 then
    unexpected = unexpected + 1
  end
end
