-- hiro's limits of one API key, checked and reserved in one atomic step
-- (src/server/limit_store.h states the rules; LocalLimitStore keeps them in
-- one process). Every key of one API key shares a hash tag: one cluster slot.
-- KEYS: 1 requests in the window (zset: id -> admission ms)
--       2 tokens in the window (zset), 3 their amounts (hash: id -> tokens), 4 their sum
--       5 the day's usage (hash), 6 the month's usage (hash)
-- ARGV reserve: 'reserve', now_ms, id, window_ms, rpm, tpm, usd_day, usd_month, tokens, usd, day_ends_ms, month_ends_ms
-- ARGV settle:  'settle', now_ms, id, window_ms, tokens_metered (1|0), reserved_tokens, reserved_usd, tokens, usd
-- Returns {1} (admitted, settled) or {0, limit, retry_after_ms, used}.
local op, now, id, window = ARGV[1], tonumber(ARGV[2]), ARGV[3], tonumber(ARGV[4])
local horizon = now - window

local function keep(key) redis.call('PEXPIRE', key, window + 1000) end

-- Drops the tokens of requests admitted before the window, in batches (unpack has a limit).
local function purge_tokens()
  while true do
    local old = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', horizon, 'LIMIT', 0, 500)
    if #old == 0 then return end
    local drop = 0
    for _, a in ipairs(redis.call('HMGET', KEYS[3], unpack(old))) do drop = drop + (tonumber(a) or 0) end
    redis.call('ZREM', KEYS[2], unpack(old))
    redis.call('HDEL', KEYS[3], unpack(old))
    redis.call('DECRBY', KEYS[4], drop)
  end
end

-- When enough of the oldest entries leave the window for `used` to fall below `limit`.
local function retry_ms(zset, amounts, used, limit)
  local start = 0
  while true do
    local batch = redis.call('ZRANGE', zset, start, start + 99, 'WITHSCORES')
    if #batch == 0 then return window end
    for i = 1, #batch, 2 do
      used = used - (amounts and (tonumber(redis.call('HGET', amounts, batch[i])) or 0) or 1)
      if used < limit then return math.max(1, math.ceil(tonumber(batch[i + 1]) + window - now)) end
    end
    start = start + 100
  end
end

local periods = {{KEYS[5], 'budget_usd_per_day'}, {KEYS[6], 'budget_usd_per_month'}}

if op == 'reserve' then
  local rpm, tpm = tonumber(ARGV[5]), tonumber(ARGV[6])
  local budgets, ends = {tonumber(ARGV[7]), tonumber(ARGV[8])}, {tonumber(ARGV[11]), tonumber(ARGV[12])}
  local tokens, usd = tonumber(ARGV[9]), ARGV[10]
  if rpm > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', horizon)
    local used = redis.call('ZCARD', KEYS[1])
    if used >= rpm then return {0, 'requests_per_minute', retry_ms(KEYS[1], nil, used, rpm), tostring(used)} end
  end
  if tpm > 0 then
    purge_tokens()
    local used = tonumber(redis.call('GET', KEYS[4]) or '0')
    if used >= tpm then return {0, 'tokens_per_minute', retry_ms(KEYS[2], KEYS[3], used, tpm), tostring(used)} end
  end
  for i, p in ipairs(periods) do
    if budgets[i] > 0 then
      local spent = redis.call('HMGET', p[1], 'cost_usd', 'reserved_usd')
      local used = (tonumber(spent[1]) or 0) + (tonumber(spent[2]) or 0)
      if used >= budgets[i] then return {0, p[2], math.max(1, ends[i] - now), tostring(used)} end
    end
  end
  if rpm > 0 then
    redis.call('ZADD', KEYS[1], now, id)
    keep(KEYS[1])
  end
  if tpm > 0 then
    redis.call('ZADD', KEYS[2], now, id)
    redis.call('HSET', KEYS[3], id, tokens)
    redis.call('INCRBY', KEYS[4], tokens)
    keep(KEYS[2]); keep(KEYS[3]); keep(KEYS[4])
  end
  for i, p in ipairs(periods) do
    redis.call('HINCRBY', p[1], 'requests', 1)
    redis.call('HINCRBY', p[1], 'in_flight', 1)
    redis.call('HINCRBY', p[1], 'reserved_tokens', tokens)
    redis.call('HINCRBYFLOAT', p[1], 'reserved_usd', usd)
    redis.call('PEXPIREAT', p[1], ends[i] + 35 * 86400000)  -- kept past its end for /v1/usage
  end
  return {1}
end

if op == 'settle' then
  local reserved_tokens, reserved_usd, tokens, usd = tonumber(ARGV[6]), ARGV[7], tonumber(ARGV[8]), ARGV[9]
  if ARGV[5] == '1' then
    local before = redis.call('HGET', KEYS[3], id)
    if before then
      redis.call('INCRBY', KEYS[4], tokens - tonumber(before))
    else  -- the request outlived the window: its tokens count from now
      redis.call('ZADD', KEYS[2], now, id)
      redis.call('INCRBY', KEYS[4], tokens)
    end
    redis.call('HSET', KEYS[3], id, tokens)
    keep(KEYS[2]); keep(KEYS[3]); keep(KEYS[4])
  end
  for _, p in ipairs(periods) do
    redis.call('HINCRBY', p[1], 'in_flight', -1)
    redis.call('HINCRBY', p[1], 'reserved_tokens', -reserved_tokens)
    redis.call('HINCRBYFLOAT', p[1], 'reserved_usd', '-' .. reserved_usd)
    redis.call('HINCRBY', p[1], 'tokens', tokens)
    redis.call('HINCRBYFLOAT', p[1], 'cost_usd', usd)
  end
  return {1}
end
return redis.error_reply('unknown operation ' .. tostring(op))
