-- wrk script: POSTs the request bodies of $BENCH_BODIES (one JSON document a
-- line) in turn, with $BENCH_TOKEN, and counts every answer that is not real
-- data: a non-200 status, a top-level error, or a business refusal.
local bodies = {}
for line in io.lines(os.getenv("BENCH_BODIES")) do
  bodies[#bodies + 1] = line
end
local token = os.getenv("BENCH_TOKEN")
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  position = id * 7919
  start = position
  wrapped = 0
  failures = 0
  first_failure = nil
end

function request()
  position = position + 1
  if position - start > #bodies then wrapped = 1 end
  local body = bodies[(position % #bodies) + 1]
  return wrk.format("POST", "/graphql", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. token,
  }, body)
end

function response(status, headers, body)
  if status ~= 200 or body:find('"errors"', 1, true) or body:find('"userErrors":[{', 1, true) then
    failures = failures + 1
    if first_failure == nil then first_failure = status .. " " .. body:sub(1, 200) end
  end
end

function done(summary, latency, requests)
  local total = 0
  local sample = nil
  local reused = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("failures")
    reused = reused + thread:get("wrapped")
    sample = sample or thread:get("first_failure")
  end
  io.write(string.format("FAILURES %d\n", total))
  io.write(string.format("REUSED %d\n", reused))
  if sample then io.write("FIRST_FAILURE " .. sample .. "\n") end
end
