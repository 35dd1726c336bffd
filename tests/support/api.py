"""Request bodies and one-line creations through the HTTP API, as a staff program would do them."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient


def series_body(**overrides: Any) -> dict[str, Any]:
    body = {
        "kind": "tech-exchange",
        "title": "宁波 · 数字化制衣技术交流会",
        "description": "智能裁剪与柔性产线",
        "chapter": "ningbo",
        "venue": "宁波国际会展中心 3号会议室",
        "timezone": "Asia/Shanghai",
        "dtstart": "2026-12-10T14:00:00",
        "duration": "PT2H",
        "rrule": "FREQ=MONTHLY;BYDAY=2TH;COUNT=12",
        "organizer_name": "宁波秘书处",
        "organizer_email": "ningbo@assoc.example",
    }
    body.update(overrides)
    return body


def create_series(client: TestClient, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/series", json=series_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def member_body(**overrides: Any) -> dict[str, Any]:
    body = {"name": "陈静", "email": "Chen.Jing@Lihua.example", "company": "丽华服饰", "chapter": "ningbo"}
    body.update(overrides)
    return body


def create_member(client: TestClient, headers: dict, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/members", json=member_body(**overrides), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()
