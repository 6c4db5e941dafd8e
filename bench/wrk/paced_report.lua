-- wrk script: report.lua at an offered rate — each connection waits CITYOPS_THINK_MS between requests.
local think = tonumber(os.getenv("CITYOPS_THINK_MS") or "20")
dofile("bench/wrk/report.lua")
delay = function()
  return think
end
