# Generates storage_matrix.json: what the SDK's StorageGrant allows, per grant x path x
# (action, subtree) + can_list_directory. Run: /tmp/sdkvenv/bin/python storage_matrix.py > storage_matrix.json
import json
from meshagent.api.participant_token import StorageGrant
grants = [
  {},
  {"paths": [{"path": "public", "read_only": True}, {"path": "/agents/bob/"}, {"path": "agents"}]},
  {"files": {"paths": [
     {"path": "", "recursive": True, "actions": ["list", "read"], "excluded_paths": ["private", "a/secret"]},
     {"path": "uploads", "recursive": True, "actions": ["list", "read", "write", "delete", "presign"]},
     {"path": "one.txt", "recursive": False, "actions": ["read", "write"]}]}},
  {"paths": [{"path": "bad/../x"}]},
  {"paths": []},
]
paths = ["", "/", ".", "./public/x", "public", "public/a.txt", "publicity", "agents/bob", "agents/bob/n.md",
         "agents/alice", "private", "private/k", "a", "a/secret/z", "a/other", "uploads", "uploads/u",
         "one.txt", "one.txt/c", "x/../y", "x\\y", "x//y", ".meshagent-directory", "d/.meshagent-upload-1"]
actions = ["list", "read", "write", "delete", "presign"]
rows = []
for g in grants:
    sg = StorageGrant.model_validate(g)
    for p in paths:
        bits = "".join("1" if sg.allows(a, p, subtree=s) else "0" for s in (False, True) for a in actions)
        bits += "1" if sg.can_list_directory(p) else "0"
        rows.append(bits)
print(json.dumps({"grants": grants, "paths": paths, "rows": rows}))
