-- Invariants of the BigPetStore pipeline, checked against the stores once the
-- run has drained. Use it from a scenario as
--   expect:
--     - { lua: lua/assertions.lua, function: check }
-- ctx.sql(query) returns rows (tables of column -> string), ctx.redis(...)
-- runs one Redis command, ctx.metric(aggregate, metric[, phase]) reads the
-- run's metrics. Return ok and a message.

-- Every store's transaction counter in Redis equals its row count in
-- PostgreSQL, and PostgreSQL holds as many transactions as were acknowledged.
function check(ctx)
  local rows = ctx.sql("SELECT store_id, count(*) AS n FROM transaction GROUP BY store_id ORDER BY store_id")
  local differing, first = 0, nil
  for _, r in ipairs(rows) do
    local n = ctx.redis("HGET", "store:" .. r.store_id, "transactions")
    if tonumber(n) ~= tonumber(r.n) then
      differing = differing + 1
      first = first or string.format("store %s: redis %s, postgres %s", r.store_id, tostring(n), r.n)
    end
  end
  if differing > 0 then
    return false, differing .. " stores differ, e.g. " .. first
  end
  local total = tonumber(ctx.sql("SELECT count(*) AS n FROM transaction")[1].n)
  local acked = ctx.metric("count", "produce.acked")
  if total ~= acked then
    return false, string.format("%d transactions in postgres, %d acknowledged", total, acked)
  end
  return true, string.format("%d stores, %d transactions agree", #rows, total)
end
