-- Takes the best eligible caller and reserves the best qualified adviser in one atomic step, with the same
-- decision as routing.engine.choose:
--   * callers in queue order (priority, then longest wait); the first one anyone can help is served;
--   * an adviser speaking the caller's language beats one who needs an interpreter, then the lowest rank.
-- It walks group heads (best first) and stops once no later head can beat the best match found. Within a
-- group the head waited longest, so has the widest stage: if nobody can take the head, nobody can take the
-- rest of the group (skipped advisers aside, which is why a caller with skips looks one caller further).
-- Returns false, or {call_sid, adviser_id, stage (1-based), interpreter 0/1, caller fields...}.
-- ARGV (flat, because decoding JSON on every call cost more than the decision; see lua_rules()):
--   now_ms, stages "after_ms:libraries:min_proficiency:languages;...", interpreter language, strategy,
--   neighbours ";Library=Other,Other;Library=Other;".
local now = tonumber(ARGV[1])
local stages = {}
for after_ms, libraries, min_proficiency, languages in string.gmatch(ARGV[2], '(%d+):(%a+):(%d):(%a+)') do
  stages[#stages + 1] = {after_ms = tonumber(after_ms), libraries = libraries,
    min_proficiency = tonumber(min_proficiency), languages = languages}
end
local interpreter = ARGV[3]
local strategy = ARGV[4]
local neighbour_map = ARGV[5]

local function stage_at(waited_ms)
  local index = 1
  for i = 1, #stages do
    if waited_ms >= stages[i].after_ms then
      index = i
    else
      break
    end
  end
  return index
end

-- Returns the bucket suffixes to read: one per library in scope, or the all-libraries bucket ('').
-- Built once per home library per call: building strings is what costs most in this script.
local EVERY_LIBRARY = {''}
local scopes = {}
local function buckets_in_scope(home, stage)
  if stage.libraries == 'any' then
    return EVERY_LIBRARY
  end
  local scope = scopes[home]
  if scope == nil then
    local near = {'|' .. home}
    local _, found = string.find(neighbour_map, ';' .. home .. '=', 1, true)
    if found then
      local listed = string.sub(neighbour_map, found + 1, string.find(neighbour_map, ';', found + 1, true) - 1)
      for library in string.gmatch(listed, '[^,]+') do
        near[#near + 1] = '|' .. library
      end
    end
    scope = {home = {near[1]}, neighbours = near}
    scopes[home] = scope
  end
  return scope[stage.libraries]
end

local suffixes = {}
local function bucket_suffix(topic, language, library)
  local key = suffixes[topic]
  if key == nil then
    key = {}
    suffixes[topic] = key
  end
  local by_language = key[language]
  if by_language == nil then
    by_language = {}
    key[language] = by_language
  end
  local suffix = by_language[library]
  if suffix == nil then
    suffix = topic .. '|' .. language .. library
    by_language[library] = suffix
  end
  return suffix
end

-- Free-adviser buckets, read lazily and parsed only as far as needed: the best is nearly always first.
local buckets = {}
local free_counts = hgetall(KEY.free_counts)
if next(free_counts) == nil then
  return false -- nobody is free
end
local function bucket_has(suffix, i)
  local bucket = buckets[suffix]
  if bucket == nil then
    bucket = {members = {}, scores = {}, ids = {}, proficiency = {}, n = 0, done = free_counts[suffix] == nil}
    buckets[suffix] = bucket
  end
  local key = KEY.free .. suffix
  while i > bucket.n and not bucket.done do
    local size = bucket.n == 0 and 4 or 32
    local page = redis.call('ZRANGE', key, bucket.n, bucket.n + size - 1, 'WITHSCORES')
    for j = 1, #page, 2 do
      local n = bucket.n + 1
      bucket.n = n
      bucket.members[n] = page[j]
      bucket.scores[n] = page[j + 1]
    end
    if #page < 2 * size then
      bucket.done = true
    end
  end
  if i > bucket.n then
    return nil
  end
  if bucket.ids[i] == nil then
    local id, proficiency = string.match(bucket.members[i], '^(.*)\t(%d)$')
    bucket.ids[i] = id
    bucket.proficiency[i] = tonumber(proficiency)
    bucket.scores[i] = tonumber(bucket.scores[i])
  end
  return bucket
end

local function best_in(topic, language, libraries, min_proficiency, skipped)
  if free_counts[bucket_suffix(topic, language, '')] == nil then
    return nil -- nobody with this topic and language is free at any library
  end
  local best_score, best_member, best_id = nil, nil, nil
  for _, library in ipairs(libraries) do
    local suffix = bucket_suffix(topic, language, library)
    local i = 1
    while true do
      local bucket = bucket_has(suffix, i)
      if bucket == nil then
        break
      end
      if bucket.proficiency[i] >= min_proficiency and not (skipped and skipped[bucket.ids[i]]) then
        local score, member = bucket.scores[i], bucket.members[i]
        if best_score == nil or score < best_score or (score == best_score and member < best_member) then
          best_score, best_member, best_id = score, member, bucket.ids[i]
        end
        break -- buckets are in rank order: the first qualified adviser is this library's best
      end
      i = i + 1
    end
  end
  return best_id
end

local function best_adviser(topic, language, home, stage_index, skipped)
  local stage = stages[stage_index]
  local libraries = buckets_in_scope(home, stage)
  local id = best_in(topic, language, libraries, stage.min_proficiency, skipped)
  if id then
    return id, false
  end
  if stage.languages == 'interpreter' and language ~= interpreter then
    id = best_in(topic, interpreter, libraries, stage.min_proficiency, skipped)
    if id then
      return id, true
    end
  end
  return false, false
end

-- Per group: its parsed fields and, per stage, whether anyone (ignoring skips) could take its callers.
-- Keyed by the group id string itself so a head costs no string building; this loop runs once per
-- group when few advisers are free.
local groups = {}
local function group_info(group)
  local info = groups[group]
  if info == nil then
    local topic, language, home = string.match(group, '^(.-)|(.-)|(.-)|%d+$')
    info = {topic = topic, language = language, home = home, found = {}}
    groups[group] = info
  end
  return info
end

local function anyone(info, stage_index)
  local found = info.found[stage_index]
  if found == nil then
    local id, interpreted = best_adviser(info.topic, info.language, info.home, stage_index, nil)
    found = {id = id, interpreted = interpreted}
    info.found[stage_index] = found
  end
  return found.id, found.interpreted
end

-- Pages start small and grow: most decisions end at the first head.
local best = nil
local offset = 0
local head_page = 4
local finished = false
while not finished do
  local heads = redis.call('ZRANGE', KEY.heads, offset, offset + head_page - 1)
  for h = 1, #heads do
    local head_score = tonumber(string.sub(heads[h], 1, HEAD_SCORE_DIGITS))
    if best and head_score > best.score then
      finished = true
      break
    end
    local group = string.sub(heads[h], HEAD_SCORE_DIGITS + 2)
    local base = math.floor(head_score / SCORE_BASE) * SCORE_BASE
    local info = group_info(group)
    if anyone(info, stage_at(now - (head_score - base))) then
      local start = 0
      local member_page = 2
      local group_done = false
      while not group_done do
        local members = redis.call('ZRANGE', KEY.group .. group, start, start + member_page - 1, 'WITHSCORES')
        for j = 1, #members, 2 do
          local call_sid = members[j]
          local enqueued = tonumber(members[j + 1])
          local score = base + enqueued
          if best and (score > best.score or (score == best.score and call_sid > best.call_sid)) then
            group_done = true
            break
          end
          local stage_index = stage_at(now - enqueued)
          local id, interpreted = anyone(info, stage_index)
          if not id then
            group_done = true
            break
          end
          local skipped_ids = redis.call('SMEMBERS', KEY.skipped .. call_sid)
          if #skipped_ids > 0 then
            local skipped = {}
            for _, skipped_id in ipairs(skipped_ids) do
              skipped[skipped_id] = true
            end
            id, interpreted = best_adviser(info.topic, info.language, info.home, stage_index, skipped)
          end
          if id then
            best = {score = score, call_sid = call_sid, adviser_id = id, stage = stage_index,
              interpreted = interpreted}
            group_done = true
            break
          end
        end
        if #members < 2 * member_page then
          group_done = true
        end
        start = start + member_page
        member_page = member_page * 4
      end
    end
  end
  if #heads < head_page then
    finished = true
  end
  offset = offset + head_page
  head_page = head_page * 4
end

if best == nil then
  return false
end
local caller = hgetall(KEY.caller .. best.call_sid)
queue_remove(best.call_sid, caller)
redis.call('HSET', KEY.caller .. best.call_sid, 'offered_to', best.adviser_id)
redis.call('HSET', KEY.offers, best.call_sid, best.adviser_id)
set_state(best.adviser_id, 'on_call', ARGV[1], 'offered ' .. best.call_sid, strategy)
local reply = caller_reply(best.call_sid, caller)
table.insert(reply, 2, best.adviser_id)
table.insert(reply, 3, best.stage)
table.insert(reply, 4, best.interpreted and 1 or 0)
return reply
