// Generates users.csv: 200 realistic users, deterministic (seeded). Run: node generate.mjs
import { writeFileSync } from 'node:fs';

let seed = 20261128;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const first = [
  'Ada',
  'Grace',
  'Alan',
  'Katherine',
  'Linus',
  'Margaret',
  'Dennis',
  'Barbara',
  'Ken',
  'Frances',
  'Edsger',
  'Radia',
  'Tim',
  'Hedy',
  'John',
  'Sophie',
  'Guido',
  'Anita',
  'Yukihiro',
  'Shafi',
  'Leslie',
  'Donald',
  'Jean',
  'Mary',
  'Hamid',
  'Chen',
  'Priya',
  'Olu',
  'Lucía',
  'Mateus',
];
const last = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Johnson',
  'Torvalds',
  'Hamilton',
  'Ritchie',
  'Liskov',
  'Thompson',
  'Allen',
  'Dijkstra',
  'Perlman',
  'Berners-Lee',
  'Lamarr',
  'McCarthy',
  'Wilson',
  'van Rossum',
  'Borg',
  'Matsumoto',
  'Goldwasser',
  'Lamport',
  'Knuth',
  'Sammet',
  'Keller',
  'Karimi',
  'Wei',
  'Raman',
  'Adeyemi',
  'García',
  'Costa',
];
const zones = [
  ['America/New_York', '+1212555'],
  ['America/Los_Angeles', '+1415555'],
  ['Europe/London', '+44207946'],
  ['Europe/Berlin', '+49301234'],
  ['Asia/Tokyo', '+81312345'],
  ['Australia/Sydney', '+61291234'],
  ['America/Sao_Paulo', '+55113456'],
  ['Asia/Kolkata', '+91224567'],
];
const plans = ['free', 'free', 'free', 'starter', 'pro', 'pro', 'enterprise'];
const rows = ['id,email,full_name,phone,timezone,plan,signup_date'];
for (let i = 1; i <= 200; i++) {
  const f = pick(first),
    l = pick(last),
    [tz, prefix] = pick(zones);
  const id = `u_${String(i).padStart(4, '0')}`;
  const email =
    `${f}.${l}${i}`
      .toLowerCase()
      .normalize('NFD')
      .replace(/[^a-z0-9.]/g, '') + '@example.com';
  const phone = prefix + String(Math.floor(rand() * 10000)).padStart(4, '0');
  const day = new Date(Date.UTC(2023, 0, 1) + Math.floor(rand() * 1000) * 86400000).toISOString().slice(0, 10);
  const name = `${f} ${l}`;
  rows.push([id, email, name.includes(',') ? `"${name}"` : name, phone, tz, pick(plans), day].join(','));
}
writeFileSync(new URL('./users.csv', import.meta.url), rows.join('\n') + '\n');
