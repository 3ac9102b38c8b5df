-- A 200-byte record built in Lua for every call: the benchmark's measure of
-- what the Lua path costs against a fixed payload. Returns (value, key).
local format = string.format
local pad = string.rep("x", 200 - 12)
local keys = {}
for i = 0, 1023 do keys[i] = tostring(i) end

function generate(seq, now_ms)
  return format("%012d", seq) .. pad, keys[seq % 1024]
end
