-- ARGV: call_sid, now_ms, adviser_state, reason, strategy.
-- The caller goes back to their old place (same priority and enqueue time) and never gets that adviser again.
local call_sid = ARGV[1]
local adviser_id = redis.call('HGET', KEY.offers, call_sid)
if not adviser_id then
  return false
end
redis.call('HDEL', KEY.offers, call_sid)
redis.call('HDEL', KEY.caller .. call_sid, 'offered_to')
redis.call('SADD', KEY.skipped .. call_sid, adviser_id)
local caller = hgetall(KEY.caller .. call_sid)
queue_insert(call_sid, caller)
set_state(adviser_id, ARGV[3], ARGV[2], ARGV[4], ARGV[5])
return caller_reply(call_sid, caller)
