-- wrk script: POST /api/v1/cases with a random point in the Huizhou core and a common category.
-- Tokens come from CITYOPS_TOKENS (space-separated bearer tokens of inspectors), one per connection.
local tokens = {}
for t in string.gmatch(os.getenv("CITYOPS_TOKENS") or "", "%S+") do tokens[#tokens + 1] = t end
local cats = {"06010", "06011", "06012", "06013", "07001", "07003", "01001", "03005", "06042", "06014"}
local counter = 0
local token

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
end

function init(args)
  math.randomseed(20260101 + id)
  token = tokens[(id % #tokens) + 1]
end

request = function()
  local lng = 114.33 + math.random() * 0.15
  local lat = 23.03 + math.random() * 0.12
  local cat = cats[math.random(#cats)]
  local body = string.format(
    '{"lng":%.6f,"lat":%.6f,"description":"压测上报 bench report","category_kind":"matter","category_code":"%s"}',
    lng, lat, cat)
  return wrk.format("POST", "/api/v1/cases",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. token}, body)
end

local statuses = {}
response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d duration_us=%d errors_status=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d\n",
    summary.requests, summary.duration, summary.errors.status, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
