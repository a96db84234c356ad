"""A labelled set of learnings on four topics, for the slicing test (ADR 0020): the clustering should
find the topics without being told them. Each learning is (context, correction) as stored."""

from __future__ import annotations

TOPICS: dict[str, list[tuple[str, str]]] = {
    "sql": [
        ("Query the users table by email", 'cur.execute("SELECT * FROM users WHERE email = %s", (email,))'),
        ("Insert a row into orders", 'cur.execute("INSERT INTO orders (id, total) VALUES (%s, %s)", (oid, total))'),
        ("Commit the database transaction after the update", 'cur.execute("UPDATE accounts SET balance = %s WHERE id = %s", (b, i))\nconn.commit()'),
        ("Count rows in the SQL table", 'cur.execute("SELECT COUNT(*) FROM events")\nn = cur.fetchone()[0]'),
        ("Join two tables in a SQL query", 'cur.execute("SELECT o.id, u.name FROM orders o JOIN users u ON u.id = o.user_id")'),
        ("Delete old rows from the sessions table", 'cur.execute("DELETE FROM sessions WHERE expires_at < now()")'),
        ("Use a parameterised query instead of string formatting", 'cur.execute("SELECT id FROM items WHERE name = %s", (name,))'),
        ("Fetch all rows of a database query", 'cur.execute("SELECT id, title FROM posts ORDER BY id")\nrows = cur.fetchall()'),
        ("Create an index on the SQL table", 'cur.execute("CREATE INDEX users_email_ix ON users (email)")'),
        ("Roll back the database transaction on error", "try:\n    cur.execute(sql, args)\n    conn.commit()\nexcept Exception:\n    conn.rollback()\n    raise"),
    ],
    "regex": [
        ("Match an email address with a regular expression", 're.fullmatch(r"[^@\\s]+@[^@\\s]+\\.[a-z]+", s)'),
        ("Extract all numbers from a string with regex", 'numbers = [int(m) for m in re.findall(r"\\d+", text)]'),
        ("Replace repeated whitespace with one space using re.sub", 're.sub(r"\\s+", " ", text).strip()'),
        ("Split a string on commas or semicolons with a regex", 'parts = re.split(r"[,;]\\s*", line)'),
        ("Compile the regular expression once", 'DATE = re.compile(r"(\\d{4})-(\\d{2})-(\\d{2})")\nm = DATE.match(s)'),
        ("Use a named group in the regex", 'm = re.search(r"(?P<key>\\w+)=(?P<value>\\w+)", s)\nkey = m.group("key")'),
        ("Make the regex match case-insensitively", 're.search(r"error", line, re.IGNORECASE)'),
        ("Anchor the regular expression to the whole string", 're.fullmatch(r"[A-Z]{3}\\d{3}", code)'),
        ("Escape user input before putting it in a regex", 'pattern = re.compile(re.escape(term))'),
        ("Find all hashtags in a tweet with re.findall", 'tags = re.findall(r"#(\\w+)", tweet)'),
    ],
    "files": [
        ("Read a text file with an explicit encoding", 'with open(path, encoding="utf-8") as f:\n    text = f.read()'),
        ("Write lines to a file and close it", 'with open(path, "w", encoding="utf-8") as f:\n    f.writelines(lines)'),
        ("List the files in a directory with pathlib", 'files = sorted(p for p in Path(folder).iterdir() if p.is_file())'),
        ("Create the output directory if it does not exist", "Path(out_dir).mkdir(parents=True, exist_ok=True)"),
        ("Read a file line by line without loading it all", "with open(path, encoding=\"utf-8\") as f:\n    for line in f:\n        handle(line)"),
        ("Join path parts portably", 'config = Path(home) / ".config" / "app.toml"'),
        ("Append to a log file", 'with open(log_path, "a", encoding="utf-8") as f:\n    f.write(message + "\\n")'),
        ("Read a binary file", 'data = Path(path).read_bytes()'),
        ("Find every Python file under a folder recursively", 'sources = list(Path(root).rglob("*.py"))'),
        ("Write a file atomically through a temporary file", "tmp = path.with_suffix('.tmp')\ntmp.write_text(text, encoding='utf-8')\ntmp.replace(path)"),
    ],
    "http": [
        ("Send a GET request with a timeout", 'resp = requests.get(url, timeout=10)\nresp.raise_for_status()'),
        ("Post JSON to the API endpoint", 'resp = requests.post(url, json=payload, timeout=10)'),
        ("Pass query parameters to the HTTP request", 'requests.get(url, params={"page": 2, "q": query}, timeout=10)'),
        ("Set an authorization header on the request", 'requests.get(url, headers={"Authorization": f"Bearer {token}"}, timeout=10)'),
        ("Retry the HTTP request on a 503 response", "for attempt in range(3):\n    resp = requests.get(url, timeout=10)\n    if resp.status_code != 503:\n        break"),
        ("Parse the JSON body of the response", 'data = requests.get(url, timeout=10).json()'),
        ("Reuse one HTTP session for many requests", 'with requests.Session() as s:\n    for u in urls:\n        s.get(u, timeout=10)'),
        ("Check the status code of the HTTP response", 'if resp.status_code == 404:\n    return None'),
        ("Download a large file over HTTP in chunks", 'with requests.get(url, stream=True, timeout=30) as r:\n    for chunk in r.iter_content(65536):\n        out.write(chunk)'),
        ("Send form data in a POST request", 'requests.post(url, data={"user": u, "password": p}, timeout=10)'),
    ],
}
