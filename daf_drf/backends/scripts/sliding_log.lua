-- daf_drf throttle check: DRF's sliding-window log, atomically, in one round trip.
--
-- One call checks one key or several (every throttle of a request at once), in order:
--
-- KEYS[i]        a history list, newest timestamp first (DRF's list, in a Redis LIST)
-- ARGV[3i - 2]   its num_requests
-- ARGV[3i - 1]   its duration in seconds
-- ARGV[3i]       now as a decimal string, or '' to use the server clock (TIME)
--
-- Returns, for each key in turn, {allowed (0|1), count, oldest, newest, now, admit}: the
-- history after the check, with timestamps as strings because Lua numbers become integers in
-- Redis replies. `admit` is the entry whose expiry admits the next request (the
-- num_requests-th newest) when the history is full, else ''.
--
-- Guarantees: the script runs atomically, so exactly num_requests entries are admitted per
-- window under any concurrency. A list never holds more than num_requests entries (it only
-- grows while shorter than that), and every write sets a TTL of `duration`, so no key lives
-- without an expiry. A denied request is not recorded, as in DRF. Keys are checked in order,
-- so two checks of one key in one call see each other, as two calls would.

local server_now = nil
local replies = {}

for i, key in ipairs(KEYS) do
  local num_requests = tonumber(ARGV[3 * i - 2])
  local duration = tonumber(ARGV[3 * i - 1])
  local now_text = ARGV[3 * i]
  if now_text == '' then
    if not server_now then
      local t = redis.call('TIME')
      server_now = t[1] .. '.' .. string.format('%06d', tonumber(t[2]))
    end
    now_text = server_now
  end
  local now = tonumber(now_text)

  -- Same trim as DRF: drop entries at or before the start of the window, oldest first.
  local edge = now - duration
  local oldest = redis.call('LINDEX', key, -1)
  while oldest and tonumber(oldest) <= edge do
    redis.call('RPOP', key)
    oldest = redis.call('LINDEX', key, -1)
  end

  local count = redis.call('LLEN', key)
  local allowed = 0
  local newest
  if count < num_requests then
    redis.call('LPUSH', key, now_text)
    redis.call('PEXPIRE', key, math.ceil(duration * 1000))
    count = count + 1
    allowed = 1
    newest = now_text
    oldest = oldest or now_text
  else
    newest = redis.call('LINDEX', key, 0) or ''
  end
  oldest = oldest or ''
  local admit = ''
  if count >= num_requests and num_requests > 0 then
    admit = redis.call('LINDEX', key, num_requests - 1) or ''
  end
  for _, value in ipairs({allowed, count, oldest, newest, now_text, admit}) do
    replies[#replies + 1] = value
  end
end
return replies
