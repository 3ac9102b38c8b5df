-- A 200-byte record built in Lua for every call: the benchmark's measure of
-- what the Lua path costs against a fixed payload. One string per record
-- (a zero-padded sequence number, then padding) and no key, like kcat's and
-- kafka-producer-perf-test's records.
local format = string.format
local pad = string.rep("x", 200 - 12)

function generate(seq, now_ms)
  return format("%012d%s", seq, pad)
end
