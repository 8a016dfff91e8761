// The fixture fast path. Registering thousands of users through POST /user/register costs a
// PBKDF2 hash each (100,000 iterations), so the bench writes its users straight into the
// bench's private MariaDB instead, in the shape the chat node itself writes them
// (src/store/schema.sql):
//   users        id, a unique mobile, a password hash no password matches (these users log in
//                by token only), salt, nickname
//   tokens       user_id, token_hash = lowercase hex SHA-256 of the token, the token being 32
//                lowercase hex characters (16 random bytes), as src/auth/Tokens.cpp makes them
//   communities  one row per group (owner: its first member)
//   contacts     owner = member, target = group, category 2 (group membership)
// The same users and tokens go to the baseline as a JSON file. Ids come from counters that
// start high, and every cell gets new users and groups, so no run sees another's history.
import { createHash, randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const ROWS_PER_INSERT = 2000;
const NO_PASSWORD = 'pbkdf2-sha256$1$' + '0'.repeat(64);

export class Fixtures {
    constructor({ firstUser = 1_000_001, firstGroup = 1_000_001 } = {}) {
        this.nextUser = firstUser;
        this.nextGroup = firstGroup;
    }

    // n new users: [{id, token}]
    users(n) {
        const out = [];
        for (let i = 0; i < n; i++) out.push({ id: this.nextUser++, token: randomBytes(16).toString('hex') });
        return out;
    }

    group() {
        return this.nextGroup++;
    }
}

function inserts(table, columns, rows) {
    const out = [];
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
        const values = rows.slice(i, i + ROWS_PER_INSERT).map((r) => `(${r.join(',')})`);
        out.push(`INSERT INTO ${table} (${columns}) VALUES\n${values.join(',\n')};`);
    }
    return out.join('\n');
}

const quote = (s) => `'${s}'`; // only digits and hex ever go through here

// SQL that creates the users (with their tokens) and groups ({id, members: [userId]}) of a cell.
export function fixtureSql(users, groups) {
    const sha256 = (t) => createHash('sha256').update(t).digest('hex');
    const userRows = users.map((u) => [
        u.id,
        quote('1' + String(u.id).padStart(12, '0')),
        quote(NO_PASSWORD),
        quote('0'.repeat(32)),
        quote(`bench${u.id}`),
    ]);
    const tokenRows = users.map((u) => [u.id, quote(sha256(u.token))]);
    const groupRows = groups.map((g) => [g.id, quote(`bench room ${g.id}`), g.members[0]]);
    const memberRows = groups.flatMap((g) => g.members.map((m) => [m, g.id, 2]));
    return [
        'SET autocommit = 0;',
        inserts('users', 'id, mobile, passwd, salt, nickname', userRows),
        inserts('tokens', 'user_id, token_hash', tokenRows),
        groupRows.length ? inserts('communities', 'id, name, owner', groupRows) : '',
        memberRows.length ? inserts('contacts', 'owner, target, category', memberRows) : '',
        'COMMIT;',
    ].join('\n');
}

// The baseline's fixture file (bench/baseline/server.mjs reads it).
export function writeBaselineFixture(file, users, groups) {
    writeFileSync(
        file,
        JSON.stringify({ users: users.map((u) => [u.id, u.token]), groups: groups.map((g) => [g.id, g.members]) }),
    );
}
