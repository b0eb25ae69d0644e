import { describe, expect, it } from 'vitest';
import { pm2Scope } from '../../src/pm2/scope.js';

describe('the election scope of a PM2 app', () => {
  it('is its namespace and name, PM2\'s default namespace when it has none', () => {
    expect(pm2Scope('prod', 'web')).toBe('prod/web');
    expect(pm2Scope(undefined, 'web')).toBe('default/web');
    expect(pm2Scope('default', 'web')).toBe(pm2Scope(undefined, 'web'));
  });

  it('is one per (namespace, name) pair, whatever characters the two contain', () => {
    const pairs: [string, string][] = [
      ['a/b', 'c'],
      ['a', 'b/c'],
      ['a%2Fb', 'c'],
      ['a:b', 'c'],
      ['a', 'b:c'],
      ['', 'a/b'],
      ['a', ''],
      ['prod', 'web'],
      ['staging', 'web'],
    ];
    const scopes = pairs.map(([namespace, name]) => pm2Scope(namespace, name));
    expect(new Set(scopes).size).toBe(pairs.length);
    expect(pm2Scope('a/b', 'c')).toBe('a%2Fb/c');
  });
});
