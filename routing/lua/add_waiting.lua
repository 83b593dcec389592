-- ARGV: call_sid, topic, language, library, priority, enqueued_ms, reasons JSON, skipped ids (comma list),
--       offered_to ('' to queue the caller; an adviser id when restoring an offer in a rebuild, or for a
--       call-back an adviser starts from their desk, which is offered to them alone).
-- Returns 1, or 0 when the caller is being offered right now (a retried webhook must not queue them twice).
local call_sid = ARGV[1]
local key = KEY.caller .. call_sid
local old = hgetall(key)
if old.topic ~= nil then
  if old.offered_to ~= nil then
    return 0
  end
  queue_remove(call_sid, old)
end
redis.call('DEL', key, KEY.skipped .. call_sid)
local caller = {topic = ARGV[2], language = ARGV[3], library = ARGV[4], priority = ARGV[5], enqueued_ms = ARGV[6]}
redis.call('HSET', key, 'topic', caller.topic, 'language', caller.language, 'library', caller.library,
  'priority', caller.priority, 'enqueued_ms', caller.enqueued_ms, 'reasons', ARGV[7])
for adviser_id in string.gmatch(ARGV[8], '[^,]+') do
  redis.call('SADD', KEY.skipped .. call_sid, adviser_id)
end
if ARGV[9] ~= '' then
  redis.call('HSET', key, 'offered_to', ARGV[9])
  redis.call('HSET', KEY.offers, call_sid, ARGV[9])
  return 1
end
queue_insert(call_sid, caller)
return 1
