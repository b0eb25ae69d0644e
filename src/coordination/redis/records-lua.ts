import { TRIGGER_KEEP_MS } from '../records/backend.js';
import { LuaScript } from './script.js';

// A task's records live in eight keys, `<prefix>{<task>}:<name>`; the hash tag puts them in one Redis Cluster slot
// (unless the task's name is empty or starts with `}`: no tag then, and a Cluster refuses its claims with CROSSSLOT).
//   token    string  the task's last fencing token (INCR); retention never touches it
//   records  hash    slot -> the fire's record, JSON (the FireRecord fields without `task`, plus `claimId`)
//   slots    zset    slot scored by slot: newest first for history()
//   order    list    slots in claim order: retention drops from its head
//   running  zset    slot scored by leaseUntil, for running records only: the lapsed ones are a range of it
//   paused   string  '1' while the task is paused (absent otherwise)
//   runs     string  the task's won claims (INCR), for fleetMax; retention never touches it
//   buffered string  the slot of the task's one buffered record (overlap 'buffer-one'), absent when none waits
export const TASK_KEYS = ['token', 'records', 'slots', 'order', 'running', 'paused', 'runs', 'buffered'] as const;

// Every task's pending triggers share one key, `<prefix>triggers`, so that triggers() is one call on a Cluster too:
// a zset of `<slot>\x1f<task>` scored by slot. The slot is digits, so the first \x1f ends it whatever the task's name.
export const TRIGGERS_KEY = 'triggers';

// Every script reads the time from Redis, so hosts whose clocks differ agree on leases. Numbers go into commands
// through int(): Lua's tostring() keeps 14 digits only. cjson keeps 14 as well, which epoch milliseconds and
// fencing tokens fit.
const PRELUDE = `local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local function int(n) return string.format('%d', n) end
`;

// Work per claim is bounded: at most 100 lapsed records marked lost and 100 records pruned (the rest by later claims).
// KEYS: the TASK_KEYS of each task of the batch. ARGV: perTask, maxAgeMs, then 9 per claim: the task's number in
// KEYS (1-based), slot, leaseMs, holder host, pid and incarnation, claimId, overlap ('skip', 'buffer-one' or ''),
// fleetMax (or '').
// Answers, per claim: {1, fencing token, runs, lost...} or {0, the holding record or '', the refusal or '', lost...},
// lost being records. The order of the checks is RecordTable.claim's.
export const CLAIM = new LuaScript(`${PRELUDE}
local per_task, max_age = tonumber(ARGV[1]), tonumber(ARGV[2])

-- Howard Hinnant's civil_from_days, for the messages of lapsed and overlapped records.
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

local function mark_lapsed(records, running, buffered, answer)
  -- The task's waiting record, lost once its claimant stopped asking (its lease passed).
  local waiting = redis.call('GET', buffered)
  if waiting then
    local raw = redis.call('HGET', records, waiting)
    local record = raw and cjson.decode(raw)
    if not record or record.state ~= 'buffered' then
      redis.call('DEL', buffered)
    elseif record.leaseUntil < now then
      redis.call('DEL', buffered)
      record.state = 'lost'
      record.error = { name = 'LostFire', message = 'it waited for the run before it, and its holder stopped asking at ' .. iso(record.leaseUntil) }
      raw = cjson.encode(record)
      redis.call('HSET', records, waiting, raw)
      answer[#answer + 1] = raw
    end
  end
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
for i = 3, #ARGV, 9 do
  local k = (tonumber(ARGV[i]) - 1) * ${TASK_KEYS.length}
  local token_key, records, slots, order, running, paused, runs, buffered =
    KEYS[k + 1], KEYS[k + 2], KEYS[k + 3], KEYS[k + 4], KEYS[k + 5], KEYS[k + 6], KEYS[k + 7], KEYS[k + 8]
  local slot, lease_ms, claim_id, overlap, fleet_max = ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 6], ARGV[i + 7], tonumber(ARGV[i + 8])
  local host, pid, incarnation = ARGV[i + 3], tonumber(ARGV[i + 4]), ARGV[i + 5]
  local answer = { 0, '', '' }
  -- A record of the task still running (its lease not passed: mark_lapsed ran first), by its slot, or nil.
  local function still_running()
    return redis.call('ZRANGEBYSCORE', running, int(now), '+inf', 'LIMIT', 0, 1)[1]
  end
  -- The fire's record: running under the claim's lease, buffered (waiting) under it too, or skipped (ended now)
  -- with the error of a refusal.
  local function add(skipped, waits)
    local token = redis.call('INCR', token_key)
    local record = {
      slot = tonumber(slot), state = 'running', fencingToken = token, claimedAt = now, leaseUntil = now + lease_ms, claimId = claim_id,
      holder = { host = host, pid = pid, incarnation = incarnation },
    }
    if skipped then
      record.state, record.leaseUntil, record.endedAt, record.error = 'skipped', now, now, skipped
    elseif waits then
      record.state = 'buffered'
      redis.call('SET', buffered, slot)
    else
      redis.call('ZADD', running, int(record.leaseUntil), slot)
    end
    redis.call('HSET', records, slot, cjson.encode(record))
    redis.call('ZADD', slots, slot, slot)
    redis.call('RPUSH', order, slot)
    prune(records, slots, order, running)
    return token
  end
  mark_lapsed(records, running, buffered, answer)
  local raw = redis.call('HGET', records, slot)
  if raw then
    local held = cjson.decode(raw)
    if held.state == 'buffered' and held.holder.host == host and held.holder.incarnation == incarnation then
      -- The claimant of the waiting fire asks again: it waits on (its lease renewed) while a fire runs, else it runs.
      held.leaseUntil, held.claimId = now + lease_ms, claim_id
      local still = still_running()
      if still then
        answer[2], answer[3] = redis.call('HGET', records, still) or '', 'buffered'
      else
        held.state, held.holder = 'running', { host = host, pid = pid, incarnation = incarnation }
        held.fencingToken = redis.call('INCR', token_key)
        redis.call('DEL', buffered)
        redis.call('ZADD', running, int(held.leaseUntil), slot)
        answer[1], answer[2], answer[3] = 1, held.fencingToken, redis.call('INCR', runs)
      end
      redis.call('HSET', records, slot, cjson.encode(held))
    elseif held.claimId ~= claim_id then
      answer[2] = raw
    else
      -- This very claim, resent after its reply was lost: written again so that a WAIT behind it covers it.
      redis.call('HSET', records, slot, raw)
      if held.state ~= 'skipped' then
        answer[1], answer[2], answer[3] = 1, held.fencingToken, tonumber(redis.call('GET', runs) or '0')
      else
        answer[3] = held.error.name == 'Paused' and 'paused' or 'overlap'
      end
    end
  elseif redis.call('EXISTS', paused) == 1 then
    add({ name = 'Paused', message = 'the task was paused' })
    answer[3] = 'paused'
  elseif fleet_max and tonumber(redis.call('GET', runs) or '0') >= fleet_max then
    answer[3] = 'limit'
  else
    local still, waiting
    if overlap == 'skip' or overlap == 'buffer-one' then
      still, waiting = still_running(), redis.call('GET', buffered)
    end
    if still and overlap == 'buffer-one' and not waiting then
      answer[2] = redis.call('HGET', records, still) or ''
      add(nil, true)
      answer[3] = 'buffered'
    elseif still or waiting then
      local before = still or waiting
      answer[2] = redis.call('HGET', records, before) or ''
      local why = still and 'was still running' or 'was waiting for the run before it'
      add({ name = 'Overlap', message = 'fire ' .. iso(tonumber(before)) .. ' of the task ' .. why })
      answer[3] = 'overlap'
    else
      answer[2] = add(nil)
      answer[1], answer[3] = 1, redis.call('INCR', runs)
    end
  end
  answers[#answers + 1] = answer
end
return answers`);

// KEYS: paused. ARGV: '1' to pause, '0' to resume.
export const PAUSE = new LuaScript(`if ARGV[1] == '1' then redis.call('SET', KEYS[1], '1') else redis.call('DEL', KEYS[1]) end
return 1`);

// KEYS: paused, runs. Answers {paused (1 or 0), runs}.
export const TASK_STATE = new LuaScript(`return { redis.call('EXISTS', KEYS[1]), tonumber(redis.call('GET', KEYS[2]) or '0') }`);

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

// KEYS: triggers. ARGV: task. Answers the trigger's slot: now, a millisecond later on a whole second (a schedule's
// fire). The same task in the same millisecond is the same member. Drops the triggers past keeping.
export const TRIGGER = new LuaScript(`${PRELUDE}
local slot = now % 1000 == 0 and now + 1 or now
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', '(' .. int(now - ${TRIGGER_KEEP_MS}))
redis.call('ZADD', KEYS[1], int(slot), int(slot) .. '\\31' .. ARGV[1])
return slot`);

// KEYS: triggers. ARGV: the score after which to list (exclusive; '-inf' or '+inf' allowed). Answers the members
// still kept, oldest slot first; those of one slot by task (member order).
export const TRIGGERS = new LuaScript(`${PRELUDE}
local oldest, found = now - ${TRIGGER_KEEP_MS}, {}
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. ARGV[1], '+inf')) do
  if tonumber(member:sub(1, member:find('\\31', 1, true) - 1)) >= oldest then found[#found + 1] = member end
end
return found`);
