-- ARGV: call_sid. Returns 1 if the caller was waiting and is now gone, else 0 (offered callers stay).
local call_sid = ARGV[1]
local caller = hgetall(KEY.caller .. call_sid)
if caller.topic == nil or caller.offered_to ~= nil then
  return 0
end
queue_remove(call_sid, caller)
redis.call('DEL', KEY.caller .. call_sid, KEY.skipped .. call_sid)
return 1
