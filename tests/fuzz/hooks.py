"""Schemathesis hooks for colloq (loaded through SCHEMATHESIS_HOOKS by fuzz.py).

Before every call: AnQiCMS routes get a customer's `token` or a staff `admin`
header, Fresns routes the signed X-Fresns-* headers with the sessions their
security asks for. Sessions are made through the API itself, from the
accounts fuzz.py seeded, and made again after a logout the fuzzer sent.
"""

import base64
import hashlib
import json
import os
import time
import urllib.request

import schemathesis

CONFIG = json.loads(open(os.environ["COLLOQ_FUZZ_CONFIG"]).read())
BASE = CONFIG["base"]
SESSIONS = {}
DEVICE = base64.b64encode(b'{"networkIpv4":"127.0.0.1"}').decode()


def call(path, body, headers=None, method="POST"):
    req = urllib.request.Request(BASE + path, data=json.dumps(body).encode(), method=method)
    req.add_header("Content-Type", "application/json")
    for k, v in (headers or {}).items():
        req.add_header(k, v)
    reply = json.loads(urllib.request.urlopen(req, timeout=30).read())
    assert reply["code"] == 0, (path, reply)
    return reply["data"]


def signed(session):
    """The X-Fresns-* headers of `session`, signed (docs/fresns.md)."""
    key = CONFIG["app_key"]
    headers = {
        "X-Fresns-App-Id": key["app_id"],
        "X-Fresns-Client-Platform-Id": str(key["platform_id"]),
        "X-Fresns-Client-Version": "1.0.0",
        "X-Fresns-Signature-Timestamp": str(int(time.time() * 1000)),
        **session,
    }
    query = "&".join(f"{k}={v}" for k, v in sorted(headers.items()) if v)
    headers["X-Fresns-Signature"] = hashlib.md5(f"{query}&AppSecret={key['app_secret']}".encode()).hexdigest()
    headers["X-Fresns-Client-Device-Info"] = DEVICE
    return headers


def anqi(door):
    if door not in SESSIONS:
        user = CONFIG["staff" if door == "admin" else "customer"]
        path = "/system/api/login" if door == "admin" else "/api/login"
        SESSIONS[door] = call(path, {"user_name": user, "password": CONFIG["password"]})["token"]
    return SESSIONS[door]


def fresns(level):
    """The session headers for `level`: "app", "account" or "user"."""
    if level == "app":
        return {}
    if "fresns" not in SESSIONS:
        password = base64.b64encode(CONFIG["password"].encode()).decode()
        account = CONFIG["fresns_user"]
        data = call("/api/v2/account/login", {"type": "email", "account": f"{account}@example.com",
                                              "password": password}, signed({}))
        session = {"X-Fresns-Aid": data["sessionToken"]["aid"], "X-Fresns-Aid-Token": data["sessionToken"]["token"]}
        data = call("/api/v2/user/auth", {"uidOrUsername": account}, signed(session))
        session_user = {**session, "X-Fresns-Uid": str(data["sessionToken"]["uid"]),
                        "X-Fresns-Uid-Token": data["sessionToken"]["token"]}
        SESSIONS["fresns"] = (session, session_user)
    account, user = SESSIONS["fresns"]
    return account if level == "account" else user


def security(case):
    names = set()
    for requirement in case.operation.definition.raw.get("security", []):
        names.update(requirement)
    return names


@schemathesis.hook
def before_call(context, case, **kwargs):
    headers = dict(case.headers or {})
    names = security(case)
    if case.operation.path.startswith("/api/v2/"):
        level = "user" if "user" in names else "account" if "account" in names else "app"
        headers.update(signed(fresns(level)))
    elif "admin" in names:
        headers["admin"] = anqi("admin")
    elif "token" in names:
        headers["token"] = anqi("token")
    case.headers = headers


@schemathesis.hook
def after_call(context, case, response):
    # A logout the fuzzer sent revoked the session: make a new one next time.
    path = case.operation.path
    if path.endswith("/logout"):
        door = "fresns" if path.startswith("/api/v2/") else "admin" if path.startswith("/system/") else "token"
        SESSIONS.pop(door, None)
