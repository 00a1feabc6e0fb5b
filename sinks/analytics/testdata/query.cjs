// query.cjs runs SQL over the Parquet files an analytics sink wrote, with
// DuckDB (@duckdb/node-api), and prints the results as JSON: one array of
// row objects per query.
//
//   NODE_PATH=<node_modules> node query.cjs DIR SQL...
//
// Each SQL reads the view "changes": every DIR/**/*.parquet, columns
// matched by name (files differ in their typed columns), with the Hive
// partitions date= and hour= as columns.
'use strict';
const { DuckDBInstance } = require('@duckdb/node-api');

async function main() {
  const [dir, ...queries] = process.argv.slice(2);
  const instance = await DuckDBInstance.create(':memory:');
  const con = await instance.connect();
  const glob = (dir + '/**/*.parquet').replaceAll("'", "''");
  await con.run(`CREATE VIEW changes AS SELECT * FROM read_parquet('${glob}', union_by_name = true, hive_partitioning = true)`);
  const out = [];
  for (const q of queries) {
    out.push((await con.runAndReadAll(q)).getRowObjectsJson());
  }
  con.closeSync();
  instance.closeSync();
  process.stdout.write(JSON.stringify(out));
}

main().catch((err) => {
  process.stderr.write(String(err && err.stack || err) + '\n');
  process.exit(1);
});
