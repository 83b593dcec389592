-- Returns topic, count, topic, count, ... for every topic with callers waiting.
local sizes = {}
for _, topic in ipairs(redis.call('SMEMBERS', KEY.topics)) do
  local count = redis.call('ZCARD', KEY.queue .. topic)
  if count > 0 then
    sizes[#sizes + 1] = topic
    sizes[#sizes + 1] = count
  end
end
return sizes
