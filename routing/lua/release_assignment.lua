-- ARGV: call_sid. Forgets a settled offer; returns 1 if there was one.
local call_sid = ARGV[1]
if redis.call('HDEL', KEY.offers, call_sid) == 0 then
  return 0
end
redis.call('DEL', KEY.caller .. call_sid, KEY.skipped .. call_sid)
return 1
