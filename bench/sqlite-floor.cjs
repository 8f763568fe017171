// The floor under every command that reads the store: start Node, load
// better-sqlite3, open the store and read one user row. No twofa code runs.
//
//   node bench/sqlite-floor.cjs STORE

const Database = require('better-sqlite3');

const sqlite = new Database(process.argv[2], { fileMustExist: true });
const row = sqlite.prepare('SELECT * FROM users WHERE id = 1').get();
sqlite.close();
if (row === undefined) {
  throw new Error(`no user with id 1 in ${process.argv[2]}`);
}
