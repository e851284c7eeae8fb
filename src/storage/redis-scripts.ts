import { createHash } from 'node:crypto';

/**
 * The Lua scripts behind RedisStore. Redis runs a script as one atomic step, so "check the fence, then
 * write" cannot interleave with a takeover. Keys per installation (prefix `p`):
 *   p e:<key>      hash { v = value bytes, p = "1" | "0" (private) }
 *   p index        sorted set of every key, all at score 0, so ZRANGEBYLEX lists a prefix in order
 *   p lease:<name> "<fence> <holder JSON>", set with NX and PX (expires by itself)
 *   p fence:<name> the last fence granted (INCR); bumped on release too, so a released lease is stale
 * A lease is current while `fence:<name>` equals its fence: every grant and every release increments
 * it, so this also holds for a lease that expired when nobody took over (the contract allows its writes).
 * Writes and deletes PUBLISH the key on the channel `p changes` from inside the script, so a change is
 * announced exactly when it happened (RedisStore.watch subscribes to it).
 */
export interface RedisScript {
  readonly source: string;
  readonly sha: string;
}

function script(source: string): RedisScript {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

/** KEYS: lease, fence. ARGV: ttl ms, holder JSON. Returns {fence} or {0, holder value, pttl}. */
export const LOCK = script(`
local held = redis.call('GET', KEYS[1])
if held then return {0, held, redis.call('PTTL', KEYS[1])} end
local fence = redis.call('INCR', KEYS[2])
redis.call('SET', KEYS[1], fence .. ' ' .. ARGV[2], 'NX', 'PX', ARGV[1])
return {fence}
`);

/** KEYS: lease, fence. ARGV: fence, ttl ms, holder JSON. Returns 1 when renewed, 0 when lost. */
export const RENEW = script(`
if tonumber(redis.call('GET', KEYS[2])) ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[1] .. ' ' .. ARGV[3], 'PX', ARGV[2])
return 1
`);

/** KEYS: lease, fence. ARGV: fence. Frees the lease if it is still this one. */
export const RELEASE = script(`
if tonumber(redis.call('GET', KEYS[2])) ~= tonumber(ARGV[1]) then return 0 end
redis.call('DEL', KEYS[1])
redis.call('INCR', KEYS[2])
return 1
`);

/**
 * KEYS: entry, index[, fence]. ARGV: value, private "1"|"0", key, channel[, fence]. Returns 1 when
 * written, 0 when the fence given is no longer current (nothing written, nothing published).
 */
export const PUT = script(`
if KEYS[3] and tonumber(redis.call('GET', KEYS[3])) ~= tonumber(ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], 'v', ARGV[1], 'p', ARGV[2])
redis.call('ZADD', KEYS[2], 0, ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[3])
return 1
`);

/**
 * KEYS: index, fence (or index again without a lease), then one entry per write. ARGV: channel, fence
 * ("" without a lease), then value, private "1"|"0", key for each write. All written, or none (0) when
 * the fence is no longer current; each key published after all are written.
 */
export const PUT_ALL = script(`
if ARGV[2] ~= '' and tonumber(redis.call('GET', KEYS[2])) ~= tonumber(ARGV[2]) then return 0 end
local n = #KEYS - 2
for i = 1, n do
  redis.call('HSET', KEYS[2 + i], 'v', ARGV[3 * i], 'p', ARGV[3 * i + 1])
  redis.call('ZADD', KEYS[1], 0, ARGV[3 * i + 2])
end
for i = 1, n do redis.call('PUBLISH', ARGV[1], ARGV[3 * i + 2]) end
return 1
`);

/** KEYS: entry, index. ARGV: key, channel. Publishes only when something was deleted. */
export const DELETE = script(`
if redis.call('DEL', KEYS[1]) == 1 then redis.call('PUBLISH', ARGV[2], ARGV[1]) end
redis.call('ZREM', KEYS[2], ARGV[1])
return 1
`);
