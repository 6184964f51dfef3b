-- Seed data for examples/postgres/sync.yaml: 50 customers (45 active) and their tags.
DROP TABLE IF EXISTS customer_tags;
DROP TABLE IF EXISTS customers;
CREATE TABLE customers (
  id bigint PRIMARY KEY,
  email text NOT NULL,
  full_name text NOT NULL,
  plan text NOT NULL,
  signed_up_at timestamptz NOT NULL,
  lifetime_value numeric(14, 2) NOT NULL,
  active boolean NOT NULL DEFAULT true
);
CREATE TABLE customer_tags (
  customer_id bigint NOT NULL REFERENCES customers (id),
  tag text NOT NULL
);
INSERT INTO customers
SELECT 9000000000000000 + i, 'customer' || i || '@example.com', 'Customer ' || i,
       (ARRAY['free', 'pro', 'enterprise'])[1 + i % 3],
       timestamptz '2024-01-01 00:00:00+00' + i * interval '1 day 1 hour 1.5 second',
       round(i * 1234.567, 2), i % 10 <> 0
  FROM generate_series(1, 50) AS i;
INSERT INTO customer_tags
SELECT 9000000000000000 + i, tag
  FROM generate_series(1, 50) AS i, unnest(ARRAY['beta', 'vip']) AS tag
 WHERE (tag = 'beta' AND i % 2 = 0) OR (tag = 'vip' AND i % 7 = 0);
