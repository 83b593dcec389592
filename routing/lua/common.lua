-- Shared by every routing script (prepended after the KEY table that routing.redis_store.RoutingKeys writes).
-- Encodings, declared here and in routing/redis_store.py's docstring:
--   caller hash:  topic, language, library, priority, enqueued_ms, reasons (JSON), offered_to (while offered)
--   group id:     topic|language|library|priority  (callers who differ only in when they joined)
--   heads member: <17-digit queue score of the group's first caller>|<group id>, score 0
--   queue score:  (100 - priority) * 1e13 + enqueued_ms, so ZRANGE order is priority first, then longest wait
--   adviser hash: id, library, skills ("topic=4,topic=2"), languages ("en-GB,pl-PL"), state, since_ms, reason
--   free bucket:  topic|language|library (and topic|language for every library),
--                 member "adviser_id<TAB>proficiency", score = strategy rank

local SCORE_BASE = 1e13
local PRIORITY_CEILING = 100
local EVENT_LIMIT = '10000'
local HEAD_SCORE_DIGITS = 17

-- Lua's own number-to-string keeps 14 digits; scores need all of them.
local function num(n)
  return string.format('%.0f', n)
end

local function hgetall(key)
  local flat = redis.call('HGETALL', key)
  local fields = {}
  for i = 1, #flat, 2 do
    fields[flat[i]] = flat[i + 1]
  end
  return fields
end

local function queue_score(priority, enqueued_ms)
  return (PRIORITY_CEILING - tonumber(priority)) * SCORE_BASE + tonumber(enqueued_ms)
end

local function group_of(caller)
  return caller.topic .. '|' .. caller.language .. '|' .. caller.library .. '|' .. caller.priority
end

-- Heads are kept in lexical order ("<17-digit queue score>|<group id>", all scores 0) so try_assign can read
-- them without asking Redis to format a floating-point score per group, its biggest cost when few advisers
-- are free and every group has to be looked at.
local function refresh_head(group, priority)
  local first = redis.call('ZRANGE', KEY.group .. group, 0, 0, 'WITHSCORES')
  local old = redis.call('HGET', KEY.head_of, group)
  local new = false
  if #first > 0 then
    new = string.format('%0' .. HEAD_SCORE_DIGITS .. '.0f', queue_score(priority, first[2])) .. '|' .. group
  end
  if old == new then
    return
  end
  if old then
    redis.call('ZREM', KEY.heads, old)
  end
  if new then
    redis.call('ZADD', KEY.heads, 0, new)
    redis.call('HSET', KEY.head_of, group, new)
  else
    redis.call('HDEL', KEY.head_of, group)
  end
end

-- Live pages (desks, wallboards) hear one small message per change on pub/sub; they fetch what they show.
local function announce_queue(topic)
  redis.call('PUBLISH', KEY.live_floor, cjson.encode({kind = 'queue', topic = topic}))
end

local function announce_adviser(adviser_id, state)
  local message = cjson.encode({kind = 'adviser', adviser_id = adviser_id, state = state})
  redis.call('PUBLISH', KEY.live_adviser .. adviser_id, message)
  redis.call('PUBLISH', KEY.live_floor, message)
end

local function queue_insert(call_sid, caller)
  local group = group_of(caller)
  redis.call('ZADD', KEY.group .. group, caller.enqueued_ms, call_sid)
  redis.call('ZADD', KEY.queue .. caller.topic, num(queue_score(caller.priority, caller.enqueued_ms)), call_sid)
  redis.call('SADD', KEY.topics, caller.topic)
  refresh_head(group, caller.priority)
  announce_queue(caller.topic)
end

local function queue_remove(call_sid, caller)
  local group = group_of(caller)
  redis.call('ZREM', KEY.group .. group, call_sid)
  redis.call('ZREM', KEY.queue .. caller.topic, call_sid)
  refresh_head(group, caller.priority)
  announce_queue(caller.topic)
end

-- Each free adviser sits in a bucket per topic, language and library, and in one per topic and language
-- covering every library, so the "any library" stage reads one bucket instead of one per library.
-- free_counts says which buckets are non-empty, so try_assign skips empty ones without reading them.
local function each_free_entry(adviser, visit)
  for topic, proficiency in string.gmatch(adviser.skills or '', '([^,=]+)=(%d)') do
    for language in string.gmatch(adviser.languages or '', '[^,]+') do
      local member = adviser.id .. '\t' .. proficiency
      visit(topic .. '|' .. language .. '|' .. adviser.library, member, tonumber(proficiency))
      visit(topic .. '|' .. language, member, tonumber(proficiency))
    end
  end
end

local function free_add(adviser, strategy)
  each_free_entry(adviser, function(bucket, member, proficiency)
    local rank = tonumber(adviser.since_ms)
    if strategy == 'most_proficient' then
      rank = (5 - proficiency) * SCORE_BASE + rank
    end
    if redis.call('ZADD', KEY.free .. bucket, num(rank), member) == 1 then
      redis.call('HINCRBY', KEY.free_counts, bucket, 1)
    end
  end)
end

local function free_remove(adviser)
  each_free_entry(adviser, function(bucket, member)
    if redis.call('ZREM', KEY.free .. bucket, member) == 1 then
      if redis.call('HINCRBY', KEY.free_counts, bucket, -1) <= 0 then
        redis.call('HDEL', KEY.free_counts, bucket)
      end
    end
  end)
end

-- Returns the previous state, or nil for an unknown adviser. Every change is recorded in the event stream.
local function set_state(adviser_id, state, since_ms, reason, strategy)
  local key = KEY.adviser .. adviser_id
  local adviser = hgetall(key)
  if adviser.id == nil then
    return nil
  end
  if adviser.state == 'available' then
    free_remove(adviser)
  end
  local previous = adviser.state
  redis.call('HSET', key, 'state', state, 'since_ms', since_ms, 'reason', reason)
  adviser.state = state
  adviser.since_ms = since_ms
  if state == 'available' then
    free_add(adviser, strategy)
  end
  redis.call('XADD', KEY.adviser_events, 'MAXLEN', '~', EVENT_LIMIT, '*',
    'adviser_id', adviser_id, 'previous', previous, 'state', state, 'at_ms', since_ms, 'reason', reason)
  announce_adviser(adviser_id, state)
  return previous
end

local function caller_reply(call_sid, caller)
  local skipped = redis.call('SMEMBERS', KEY.skipped .. call_sid)
  return {call_sid, caller.topic, caller.language, caller.library, caller.priority, caller.enqueued_ms,
    caller.reasons or '[]', table.concat(skipped, ',')}
end
