import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AutoHttpsEmitter } from '../../../src/server/events.ts';

const event = {
  id: 'a.test',
  names: ['a.test'],
  serial: '01',
  notAfter: new Date(0),
  onDemand: false,
  reason: 'no certificate yet',
};

test('once() listeners run for one event only and are then removed', () => {
  const emitter = new AutoHttpsEmitter();
  const seen: string[] = [];
  emitter.once('renewed', (e) => seen.push(`once ${e.serial}`));
  emitter.on('renewed', (e) => seen.push(`on ${e.serial}`));
  emitter.emit('renewed', event);
  emitter.emit('renewed', { ...event, serial: '02' });
  assert.deepEqual(seen, ['once 01', 'on 01', 'on 02']);
});

test('a listener that throws is returned, and the others still run', () => {
  const emitter = new AutoHttpsEmitter();
  let ran = false;
  emitter.on('renewed', () => {
    throw new Error('boom');
  });
  emitter.on('renewed', () => {
    ran = true;
  });
  const errors = emitter.emit('renewed', event);
  assert.equal(ran, true);
  assert.equal((errors[0] as Error).message, 'boom');
});
