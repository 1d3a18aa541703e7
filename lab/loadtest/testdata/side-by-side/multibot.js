#!/usr/bin/env node
// N node-metaverse bots in one process against LOGIN_URI: arrival at RATE/s, each logs in
// (Bot.login + Bot.connectToSim, the library's full sequence), stays STAY_MS, logs out.
'use strict';
const env = process.env;
const N = parseInt(env.N || '10'), RATE = parseFloat(env.RATE || '10'), STAY_MS = parseInt(env.STAY_MS || '30000');
const LOGIN_URI = env.LOGIN_URI || 'http://127.0.0.1:9000/';
for (const level of ['log', 'info', 'warn', 'error']) console[level] = () => {};
const base = '@caspertech/node-metaverse/dist/lib';
const nmv = require('@caspertech/node-metaverse');
{
  const { Logger } = require(`${base}/classes/Logger`);
  Logger.Log = () => {};
  try {
    const winston = require(require.resolve('winston', { paths: [require.resolve('@caspertech/node-metaverse')] }));
    winston.configure({ transports: [new winston.transports.Console({ silent: true })], exitOnError: false });
  } catch (_e) {}
}
process.on('unhandledRejection', () => {});
const t0 = Date.now();
const res = { ok: 0, failed: 0, loggedOut: 0, inWorldMs: [], errors: {} };
let peak = 0;
let connected = 0;
async function one(k) {
  const intended = t0 + (k * 1000) / RATE;
  await new Promise((r) => setTimeout(r, Math.max(0, intended - Date.now())));
  const lp = new nmv.LoginParameters();
  lp.url = LOGIN_URI; lp.firstName = 'Load'; lp.lastName = 'Test' + (k + 1); lp.password = 'password'; lp.start = 'last';
  const bot = new nmv.Bot(lp, nmv.BotOptionFlags.LiteObjectStore | nmv.BotOptionFlags.StoreMyAttachmentsOnly);
  try {
    await bot.login();
    await bot.connectToSim();
  } catch (e) {
    res.failed++; const m = String(e && e.message || e).slice(0, 60); res.errors[m] = (res.errors[m] || 0) + 1; return;
  }
  res.ok++; res.inWorldMs.push(Date.now() - intended);
  connected++; peak = Math.max(peak, connected);
  await new Promise((r) => setTimeout(r, STAY_MS));
  try { await bot.close(); res.loggedOut++; } catch (_e) {}
  connected--;
}
Promise.all([...Array(N).keys()].map(one)).then(() => {
  const s = res.inWorldMs.sort((a, b) => a - b);
  const p = (q) => s.length ? s[Math.min(s.length - 1, Math.ceil(q / 100 * s.length) - 1)] : null;
  process.stdout.write(JSON.stringify({ n: N, rate: RATE, ok: res.ok, failed: res.failed, logged_out: res.loggedOut, peak_connected: peak,
    p50_ms: p(50), p99_ms: p(99), max_ms: s[s.length - 1], errors: res.errors, wall_s: (Date.now() - t0) / 1000 }) + '\n');
  process.exit(0);
});
