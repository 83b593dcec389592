-- ARGV: adviser_id, library, skills, languages, now_ms, strategy, and for a rebuild: state, since_ms, reason
-- ('' state keeps a known adviser's state; a new adviser starts offline). Records no event.
local adviser_id = ARGV[1]
local key = KEY.adviser .. adviser_id
local adviser = hgetall(key)
if adviser.id ~= nil and adviser.state == 'available' then
  free_remove(adviser)
end
if ARGV[7] ~= '' then
  redis.call('HSET', key, 'id', adviser_id, 'state', ARGV[7], 'since_ms', ARGV[8], 'reason', ARGV[9])
elseif adviser.id == nil then
  redis.call('HSET', key, 'id', adviser_id, 'state', 'offline', 'since_ms', ARGV[5], 'reason', 'registered')
end
redis.call('HSET', key, 'library', ARGV[2], 'skills', ARGV[3], 'languages', ARGV[4])
redis.call('SADD', KEY.advisers, adviser_id)
adviser = hgetall(key)
if adviser.state == 'available' then
  free_add(adviser, ARGV[6])
end
return 1
