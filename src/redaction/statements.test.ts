import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { sanitizeRedis, sanitizeSql } from './statements';

describe('sanitizeSql', () => {
  const CASES: ReadonlyArray<[string, string]> = [
    ["ALTER ROLE app PASSWORD $$hunter2$$", "ALTER ROLE app PASSWORD '?'"],
    ['SELECT $fn$ body with \'quote\' $fn$ AS src', "SELECT '?' AS src"],
    ["SELECT E'it\\'s secret', 'plain'", "SELECT '?', '?'"],
    ["SELECT * FROM t WHERE id = 42 AND score > 1.5e3 AND flag = 0xff", 'SELECT * FROM t WHERE id = ? AND score > ? AND flag = ?'],
    ['SELECT t1.c2 FROM t1 WHERE a = $1 AND b = $22', 'SELECT t1.c2 FROM t1 WHERE a = $1 AND b = $22'],
    ['SELECT "weird\'col" FROM t', 'SELECT "weird\'col" FROM t'],
    ["SELECT 1 -- it's a comment\nFROM t", "SELECT ? -- it's a comment\nFROM t"],
    ["SELECT 'unterminated", "SELECT '?'"],
    ['SELECT $$unterminated', "SELECT '?'"],
  ];
  for (const [input, expected] of CASES) it(JSON.stringify(input), () => assert.equal(sanitizeSql(input), expected));
});

describe('sanitizeRedis', () => {
  const CASES: ReadonlyArray<[string, string]> = [
    ['SET session:1 [1 other arguments]', 'SET session:1 ?'],
    ["EVAL return redis.call('set',KEYS[1],ARGV[1]) 1 k s3cr3t", 'EVAL ?'],
    ['EVALSHA abc123 1 k s3cr3t', 'EVALSHA ?'],
    ['FCALL fn 1 k s3cr3t', 'FCALL ?'],
    ['AUTH default hunter2', 'AUTH ?'],
    ['HSET user:1 email a@b.example', 'HSET user:1 ?'],
    ['ACL SETUSER alice >pass', 'ACL SETUSER ?'],
    ['GET user:1', 'GET user:1'],
    ['PING', 'PING'],
  ];
  for (const [input, expected] of CASES) it(JSON.stringify(input), () => assert.equal(sanitizeRedis(input), expected));
});
