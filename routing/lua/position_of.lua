-- ARGV: call_sid. Returns the 1-based place among callers waiting on the same topic, or nil.
local caller = redis.call('HMGET', KEY.caller .. ARGV[1], 'topic', 'offered_to')
if not caller[1] or caller[2] then
  return false
end
local rank = redis.call('ZRANK', KEY.queue .. caller[1], ARGV[1])
if not rank then
  return false
end
return rank + 1
