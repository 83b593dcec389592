-- ARGV: adviser_id, state, since_ms, reason, strategy. Returns the previous state.
local previous = set_state(ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5])
if previous == nil then
  return redis.error_reply('unknown adviser ' .. ARGV[1])
end
return previous
