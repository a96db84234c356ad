"""Converts gitleaks' config/gitleaks.toml into the JSON the learner's scanner reads.

Keeps only what scanning a text needs (rules, their keywords, entropy, secret group and allowlists);
normalises the old single `[rules.allowlist]` table and the new `[[rules.allowlists]]` array into one list.
"""

import json
import sys
import tomllib


def allowlist(entry: dict) -> dict:
    return {
        "condition": entry.get("condition", "OR").upper(),
        "regexTarget": entry.get("regexTarget", "secret"),
        "regexes": entry.get("regexes", []),
        "stopwords": entry.get("stopwords", []),
        "paths": entry.get("paths", []),
    }


def main() -> None:
    path, version = sys.argv[1], sys.argv[2]
    with open(path, "rb") as f:
        config = tomllib.load(f)
    rules = []
    for rule in config["rules"]:
        lists = rule.get("allowlists", [])
        if "allowlist" in rule:
            lists = [rule["allowlist"], *lists]
        rules.append(
            {
                "id": rule["id"],
                "description": rule.get("description", ""),
                "regex": rule.get("regex"),
                "path": rule.get("path"),
                "secretGroup": rule.get("secretGroup", 0),
                "entropy": rule.get("entropy", 0),
                "keywords": [k.lower() for k in rule.get("keywords", [])],
                "allowlists": [allowlist(a) for a in lists],
            }
        )
    glob = config.get("allowlist", {})
    json.dump(
        {
            "source": "github.com/zricethezav/gitleaks/v8 config/gitleaks.toml",
            "version": version,
            "license": "MIT (see LICENSE beside this file)",
            "allowlist": {"regexes": glob.get("regexes", []), "stopwords": glob.get("stopwords", [])},
            "rules": rules,
        },
        sys.stdout,
        indent=2,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
