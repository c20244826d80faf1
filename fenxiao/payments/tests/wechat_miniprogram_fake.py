"""The WeChat mini-program's server API, as part of the WeChat stand-in (`wechatpay_fake`):
`jscode2session` (a `wx.login` code for the openid, once), `stable_token` for the
mini-program's AppID, `getuserphonenumber` (a `getPhoneNumber` code for the verified
number, once, with the mini-program's own access token) and `getwxacodeunlimit` (a
小程序码 for a published page and a scene of at most 32 characters).

Kept apart so the stand-in's module stays small; `FakeWechatPay` mixes it in.
"""

import json
import secrets
from dataclasses import dataclass, field
from urllib.parse import parse_qs

MINI_APPID = "wx5f2e8a91c3b7d604"
MINI_SECRET = "fenxiao-miniprogram-app-secret"
TOKEN_ERROR = {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}


@dataclass
class MiniProgramStandIn:
    # wx.login codes (code -> openid) and getPhoneNumber codes (code -> (number, country)),
    # each usable once, as WeChat hands them out.
    login_codes: dict = field(default_factory=dict)
    phone_codes: dict = field(default_factory=dict)
    # The mini-program's live access tokens (the 公众号's are another app's).
    mini_tokens: set = field(default_factory=set)
    # The app a phone number's watermark names (None: this mini-program, as WeChat does).
    phone_watermark_appid: str | None = None
    # The 小程序码 drawn ({"scene", "page", "env_version", …} each) and the pages the
    # published mini-program has (others are refused with 41030, as WeChat does).
    codes_drawn: list = field(default_factory=list)
    published_pages: set = field(default_factory=lambda: {"pages/index/index"})

    def miniprogram_settings(self) -> dict:
        """The mall's WECHAT_MINIPROGRAM setting for the mini-program bound to this merchant."""
        return {"APPID": MINI_APPID, "SECRET": MINI_SECRET, "API_BASE": self.base}

    def reset_miniprogram(self) -> None:
        self.login_codes.clear()
        self.phone_codes.clear()
        self.mini_tokens.clear()
        self.phone_watermark_appid = None
        self.codes_drawn.clear()
        self.published_pages = {"pages/index/index"}

    def wx_login(self, openid: str) -> str:
        """What `wx.login` gives the mini-program of the WeChat user `openid`."""
        code = f"LOGIN-{secrets.token_hex(8)}"
        self.login_codes[code] = openid
        return code

    def wx_phone(self, number: str, country: str = "86") -> str:
        """What the `getPhoneNumber` button gives for a user whose WeChat number is `number`."""
        code = f"PHONE-{secrets.token_hex(8)}"
        self.phone_codes[code] = (number, country)
        return code

    def miniprogram_answer(self, path: str, query: str, body: str):
        """(status, answer) for a mini-program API path, or None for any other path."""
        params = parse_qs(query)
        if path == "/sns/jscode2session":
            if params.get("appid") != [MINI_APPID] or params.get("secret") != [MINI_SECRET]:
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            if params.get("grant_type") != ["authorization_code"]:
                return 200, {"errcode": 40002, "errmsg": "invalid grant_type"}
            openid = self.login_codes.pop(params.get("js_code", [""])[0], None)
            if openid is None:
                return 200, {"errcode": 40029, "errmsg": "invalid code"}
            return 200, {"openid": openid, "session_key": secrets.token_urlsafe(16)}
        if path == "/cgi-bin/stable_token" and json.loads(body or "{}").get("appid") == MINI_APPID:
            if json.loads(body).get("secret") != MINI_SECRET:
                return 200, {"errcode": 40125, "errmsg": "invalid appsecret"}
            token = f"MINI-TOKEN-{secrets.token_hex(8)}"
            self.mini_tokens.add(token)
            return 200, {"access_token": token, "expires_in": 7200}
        if path == "/wxa/getwxacodeunlimit":
            if params.get("access_token", [""])[0] not in self.mini_tokens:
                return 200, TOKEN_ERROR
            request = json.loads(body or "{}")
            scene = request.get("scene", "")
            if not scene or len(scene) > 32:
                return 200, {"errcode": 40169, "errmsg": "invalid length for scene"}
            if request.get("page") not in self.published_pages:
                return 200, {"errcode": 41030, "errmsg": "invalid page"}
            self.codes_drawn.append(request)
            # A JPEG's start and end markers around the request: each code is its own image.
            return 200, b"\xff\xd8\xff\xe0" + json.dumps(request, sort_keys=True).encode() + b"\xff\xd9"
        if path == "/wxa/business/getuserphonenumber":
            if params.get("access_token", [""])[0] not in self.mini_tokens:
                return 200, TOKEN_ERROR
            found = self.phone_codes.pop(json.loads(body or "{}").get("code", ""), None)
            if found is None:
                return 200, {"errcode": 40029, "errmsg": "invalid code"}
            number, country = found
            return 200, {
                "errcode": 0,
                "errmsg": "ok",
                "phone_info": {
                    "phoneNumber": number if country == "86" else f"+{country}{number}",
                    "purePhoneNumber": number,
                    "countryCode": country,
                    "watermark": {"timestamp": 1764729296, "appid": self.phone_watermark_appid or MINI_APPID},
                },
            }
        return None
