import { LuaScript } from './script.js';

// A task's records live in five keys, `<prefix>{<task>}:<name>`; the hash tag puts them in one Redis Cluster slot
// (unless the task's name is empty or starts with `}`: no tag then, and a Cluster refuses its claims with CROSSSLOT).
//   token    string  the task's last fencing token (INCR); retention never touches it
//   records  hash    slot -> the fire's record, JSON (the FireRecord fields without `task`, plus `claimId`)
//   slots    zset    slot scored by slot: newest first for history()
//   order    list    slots in claim order: retention drops from its head
//   running  zset    slot scored by leaseUntil, for running records only: the lapsed ones are a range of it
export const TASK_KEYS = ['token', 'records', 'slots', 'order', 'running'] as const;

// Every script reads the time from Redis, so hosts whose clocks differ agree on leases. Numbers go into commands
// through int(): Lua's tostring() keeps 14 digits only. cjson keeps 14 as well, which epoch milliseconds and
// fencing tokens fit.
const PRELUDE = `local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local function int(n) return string.format('%d', n) end
`;

// Work per claim is bounded: at most 100 lapsed records marked lost and 100 records pruned (the rest by later claims).
// KEYS: the TASK_KEYS of each task of the batch. ARGV: perTask, maxAgeMs, then 7 per claim: the task's number in
// KEYS (1-based), slot, leaseMs, holder host, pid and incarnation, claimId.
// Answers, per claim: {1, fencing token, lost...} or {0, the holding record, lost...}, lost being records.
export const CLAIM = new LuaScript(`${PRELUDE}
local per_task, max_age = tonumber(ARGV[1]), tonumber(ARGV[2])

-- Howard Hinnant's civil_from_days, for the message of a lapsed record.
local function iso(ms)
  local days, rest = math.floor(ms / 86400000), ms % 86400000
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local month = mp < 10 and mp + 3 or mp - 9
  local year = yoe + era * 400 + (month <= 2 and 1 or 0)
  return string.format('%04d-%02d-%02dT%02d:%02d:%02d.%03dZ', year, month, doy - math.floor((153 * mp + 2) / 5) + 1,
    math.floor(rest / 3600000), math.floor(rest / 60000) % 60, math.floor(rest / 1000) % 60, rest % 1000)
end

local function mark_lapsed(records, running, answer)
  for _, slot in ipairs(redis.call('ZRANGEBYSCORE', running, '-inf', '(' .. int(now), 'LIMIT', 0, 100)) do
    redis.call('ZREM', running, slot)
    local raw = redis.call('HGET', records, slot)
    if raw then
      local record = cjson.decode(raw)
      record.state = 'lost'
      record.error = { name = 'LostFire', message = 'its lease ended at ' .. iso(record.leaseUntil) .. ' without an end from its holder' }
      raw = cjson.encode(record)
      redis.call('HSET', records, slot, raw)
      answer[#answer + 1] = raw
    end
  end
end

-- Oldest claim first, past either limit, and never a record whose lease has not passed.
local function prune(records, slots, order, running)
  local count = redis.call('HLEN', records)
  for _ = 1, 100 do
    local slot = redis.call('LINDEX', order, 0)
    if not slot then return end
    local raw = redis.call('HGET', records, slot)
    if raw then
      local record = cjson.decode(raw)
      if (count <= per_task and record.claimedAt >= now - max_age) or record.leaseUntil >= now then return end
      redis.call('HDEL', records, slot)
      redis.call('ZREM', slots, slot)
      redis.call('ZREM', running, slot)
      count = count - 1
    end
    redis.call('LPOP', order)
  end
end

local answers = {}
for i = 3, #ARGV, 7 do
  local k = (tonumber(ARGV[i]) - 1) * 5
  local token_key, records, slots, order, running = KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5]
  local slot, claim_id = ARGV[i + 1], ARGV[i + 6]
  local answer = { 0, '' }
  mark_lapsed(records, running, answer)
  local raw = redis.call('HGET', records, slot)
  if raw then
    local held = cjson.decode(raw)
    if held.claimId == claim_id then
      -- This very claim, resent after its reply was lost: written again so that a WAIT behind it covers it.
      redis.call('HSET', records, slot, raw)
      answer[1], answer[2] = 1, held.fencingToken
    else
      answer[2] = raw
    end
  else
    local token = redis.call('INCR', token_key)
    local lease_until = now + tonumber(ARGV[i + 2])
    redis.call('HSET', records, slot, cjson.encode({
      slot = tonumber(slot), state = 'running', fencingToken = token, claimedAt = now, leaseUntil = lease_until, claimId = claim_id,
      holder = { host = ARGV[i + 3], pid = tonumber(ARGV[i + 4]), incarnation = ARGV[i + 5] },
    }))
    redis.call('ZADD', slots, slot, slot)
    redis.call('RPUSH', order, slot)
    redis.call('ZADD', running, int(lease_until), slot)
    prune(records, slots, order, running)
    answer[1], answer[2] = 1, token
  end
  answers[#answers + 1] = answer
end
return answers`);

// KEYS: records, running. ARGV: slot, fencing token, leaseMs.
export const RENEW = new LuaScript(`${PRELUDE}
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local record = cjson.decode(raw)
if record.state ~= 'running' or record.fencingToken ~= tonumber(ARGV[2]) or record.leaseUntil < now then return 0 end
record.leaseUntil = now + tonumber(ARGV[3])
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(record))
redis.call('ZADD', KEYS[2], int(record.leaseUntil), ARGV[1])
return 1`);

// KEYS: the TASK_KEYS of each task of the batch. ARGV: 8 per end: the task's number in KEYS (1-based), slot,
// fencing token, state, endedAt, then startedAt, the error's name and message ('failed'), or the cause ('lost').
// Answers 1 or 0 per end: written, or not that token's record.
export const END = new LuaScript(`${PRELUDE}
local answers = {}
for i = 1, #ARGV, 8 do
  local base = (tonumber(ARGV[i]) - 1) * ${TASK_KEYS.length}
  local records, running, slot = KEYS[base + ${TASK_KEYS.indexOf('records') + 1}], KEYS[base + ${TASK_KEYS.indexOf('running') + 1}], ARGV[i + 1]
  local raw = redis.call('HGET', records, slot)
  local record = raw and cjson.decode(raw)
  if record and record.fencingToken == tonumber(ARGV[i + 2]) then
    redis.call('ZREM', running, slot)
    record.state = ARGV[i + 3]
    record.endedAt = tonumber(ARGV[i + 4])
    record.leaseUntil = math.min(record.leaseUntil, now)
    record.error = nil
    if record.state == 'lost' then
      record.error = { name = 'LostFire', message = ARGV[i + 5] }
    else
      record.startedAt = tonumber(ARGV[i + 5])
      record.durationMs = record.endedAt - record.startedAt
      if record.state == 'failed' then record.error = { name = ARGV[i + 6], message = ARGV[i + 7] } end
    end
    redis.call('HSET', records, slot, cjson.encode(record))
    answers[#answers + 1] = 1
  else
    answers[#answers + 1] = 0
  end
end
return answers`);

// KEYS: records, slots. ARGV: the rank of the last record to read, newest first (-1: all).
export const HISTORY = new LuaScript(`local found = {}
for _, slot in ipairs(redis.call('ZREVRANGE', KEYS[2], 0, ARGV[1])) do
  local raw = redis.call('HGET', KEYS[1], slot)
  if raw then found[#found + 1] = raw end
end
return found`);
