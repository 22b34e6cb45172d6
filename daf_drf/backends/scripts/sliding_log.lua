-- daf_drf throttle check: DRF's sliding-window log, atomically, in one round trip.
--
-- KEYS[1]  the history list, newest timestamp first (DRF's list, in a Redis LIST)
-- ARGV[1]  num_requests
-- ARGV[2]  duration in seconds
-- ARGV[3]  now as a decimal string, or '' to use the server clock (TIME)
--
-- Returns {allowed (0|1), count, oldest, newest, now, admit}: the history after the check,
-- with timestamps as strings because Lua numbers become integers in Redis replies. `admit`
-- is the entry whose expiry admits the next request (the num_requests-th newest) when the
-- history is full, else ''.
--
-- Guarantees: the script runs atomically, so exactly num_requests entries are admitted per
-- window under any concurrency. The list never holds more than num_requests entries (it only
-- grows while shorter than that), and every write sets a TTL of `duration`, so no key lives
-- without an expiry. A denied request is not recorded, as in DRF.

local key = KEYS[1]
local num_requests = tonumber(ARGV[1])
local duration = tonumber(ARGV[2])
local now_text = ARGV[3]
if now_text == '' then
  local t = redis.call('TIME')
  now_text = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
end
local now = tonumber(now_text)

-- Same trim as DRF: drop entries at or before the start of the window, oldest first.
local edge = now - duration
while true do
  local oldest = redis.call('LINDEX', key, -1)
  if not oldest or tonumber(oldest) > edge then
    break
  end
  redis.call('RPOP', key)
end

local count = redis.call('LLEN', key)
local allowed = 0
if count < num_requests then
  redis.call('LPUSH', key, now_text)
  redis.call('PEXPIRE', key, math.ceil(duration * 1000))
  count = count + 1
  allowed = 1
end

local oldest = redis.call('LINDEX', key, -1) or ''
local newest = redis.call('LINDEX', key, 0) or ''
local admit = ''
if count >= num_requests and num_requests > 0 then
  admit = redis.call('LINDEX', key, num_requests - 1) or ''
end
return {allowed, count, oldest, newest, now_text, admit}
