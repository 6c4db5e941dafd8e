-- wrk script: what console readers do while reports come in — list the newest cases, open one,
-- count by status, read the inbox. Tokens from CITYOPS_TOKENS (space-separated), one per connection.
-- Each connection waits CITYOPS_THINK_MS (default 250) between requests, as a person at a console does.
local tokens = {}
for t in string.gmatch(os.getenv("CITYOPS_TOKENS") or "", "%S+") do tokens[#tokens + 1] = t end
local think = tonumber(os.getenv("CITYOPS_THINK_MS") or "250")
local counter = 0
local token
local paths = {
  "/api/v1/cases?page_size=50&sort=created_desc",
  "/api/v1/cases/1",
  "/api/v1/cases/stats",
  "/api/v1/inbox?page_size=20",
  "/api/v1/cases?status=dispatched,handling&page_size=20",
}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  math.randomseed(777 + id)
  token = tokens[(id % #tokens) + 1]
end

request = function()
  local p = paths[math.random(#paths)]
  if p == "/api/v1/cases/1" then p = "/api/v1/cases/" .. math.random(1, 70000) end
  return wrk.format("GET", p, {["Authorization"] = "Bearer " .. token})
end

delay = function()
  return think
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d errors_status=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.errors.status, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
