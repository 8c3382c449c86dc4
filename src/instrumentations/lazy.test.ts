import assert from 'node:assert/strict';
import Module from 'node:module';
import { describe, it } from 'node:test';
import { deferUntilRequired, packageOf } from './lazy';

describe('packageOf', () => {
  it('reduces a require id to its package', () => {
    assert.equal(packageOf('mysql2/promise'), 'mysql2');
    assert.equal(packageOf('pg'), 'pg');
    assert.equal(packageOf('@redis/client/dist/lib/client'), '@redis/client');
    assert.equal(packageOf('@redis/client'), '@redis/client');
    assert.equal(packageOf('./local'), '');
    assert.equal(packageOf('/abs/path.js'), '');
    assert.equal(packageOf('node:http'), '');
  });
});

type Require = (this: NodeJS.Module, id: string) => unknown;

describe('deferUntilRequired', () => {
  it('sends the first require through a require hook that the deferred load installed (an instrumentation with its own instrumentation copy)', () => {
    const proto = Module.prototype as unknown as { require: Require };
    const pristine = proto.require;
    const seen: string[] = [];
    const undo = deferUntilRequired(['express'], () => {
      // What require-in-the-middle does when a second @opentelemetry/instrumentation copy starts.
      const previous = proto.require;
      proto.require = function (this: NodeJS.Module, id: string) {
        if (id === 'express') seen.push(id);
        return previous.call(this, id);
      };
    });
    try {
      const express = require('express') as unknown;
      assert.equal(typeof express, 'function');
      assert.deepEqual(seen, ['express'], 'the hook saw the very first require of its package');
      require('express');
      assert.deepEqual(seen, ['express', 'express'], 'and every later one, once each');
    } finally {
      undo();
      proto.require = pristine;
    }
  });
});
