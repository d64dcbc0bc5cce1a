-- One request, again and again: QB_BENCH_METHOD (default GET) with the body QB_BENCH_BODY
-- and the Content-Type QB_BENCH_CONTENT_TYPE if given. Any status but 200 is unexpected.

dofile(os.getenv("QB_BENCH_WRK_DIR") .. "/report.lua")

wrk.method = os.getenv("QB_BENCH_METHOD") or "GET"
wrk.body = os.getenv("QB_BENCH_BODY")
local content_type = os.getenv("QB_BENCH_CONTENT_TYPE")
if content_type then
  wrk.headers["Content-Type"] = content_type
end

function response(status, headers, body)
  if status ~= 200 then
    unexpected = unexpected + 1
  end
end
