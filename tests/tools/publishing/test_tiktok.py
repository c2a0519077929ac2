"""The TikTok publisher against the local Content Posting API stand-in (tiktok_standin.py):
creator_info first, inbox upload (the default) and direct post, the media transfer guide's
chunk arithmetic (a property test over sizes around its 5/64/128 MB bounds, computed only),
chunks in order, status polling, unaudited-app limits, resuming without a second post."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).parent))
from tiktok_standin import TikTokStandIn, plan_problem  # noqa: E402

from assistant.config import Settings  # noqa: E402
from assistant.content import Brief, Script, Section  # noqa: E402
from assistant.tools.publishing.base import PublishError, PublishRequest  # noqa: E402
from assistant.tools.publishing.tiktok import (  # noqa: E402
    MAX_CHUNK,
    MAX_FINAL_CHUNK,
    MIB,
    MIN_CHUNK,
    TikTokPublisher,
    chunk_plan,
)

GB = 1024**3
BOUNDS = [MIN_CHUNK, 5_000_000, MAX_CHUNK, 64 * MIB, MAX_FINAL_CHUNK, 128 * MIB, 2 * MAX_CHUNK,
          1000 * MAX_CHUNK, 4 * GB]
near_a_bound = st.builds(lambda bound, offset: max(1, bound + offset),
                         st.sampled_from(BOUNDS), st.integers(-3, 3))


@given(size=st.one_of(near_a_bound, st.integers(1, 4 * GB)),
       preferred=st.one_of(st.sampled_from(BOUNDS), st.integers(1, 200 * MIB)))
@settings(max_examples=400, deadline=None, database=None)  # no .hypothesis dir
def test_chunk_plan_follows_the_media_transfer_guide(size: int, preferred: int) -> None:
    plan = chunk_plan(size, preferred)
    assert plan_problem(plan.video_size, plan.chunk_size, plan.total_chunk_count) == ""
    spans = plan.ranges()
    assert len(spans) == plan.total_chunk_count == size // plan.chunk_size
    assert spans[0][0] == 0 and spans[-1][1] == size - 1
    assert all(a[1] + 1 == b[0] for a, b in zip(spans, spans[1:], strict=False))  # in order
    assert all(last - first + 1 == plan.chunk_size for first, last in spans[:-1])
    assert spans[-1][1] - spans[-1][0] + 1 <= MAX_FINAL_CHUNK
    if size < MIN_CHUNK:
        assert (plan.chunk_size, plan.total_chunk_count) == (size, 1)
    if size > MAX_CHUNK:
        assert plan.total_chunk_count >= 2
    if plan.total_chunk_count > 1:
        assert MIN_CHUNK <= plan.chunk_size <= MAX_CHUNK


def test_the_guides_own_example() -> None:
    """50,000,123 bytes in 10,000,000-byte chunks: 5 chunks, the last takes the 123."""
    plan = chunk_plan(50_000_123, 10_000_000)
    assert plan.total_chunk_count == 5
    assert plan.ranges()[-1] == (40_000_000, 50_000_122)


@pytest.fixture
def standin() -> Iterator[TikTokStandIn]:
    server = TikTokStandIn()
    server.start()
    yield server
    server.stop()


def publisher_for(standin: TikTokStandIn, tmp_path: Path, **extra: Any) -> TikTokPublisher:
    settings = Settings(_env_file=None, data_dir=tmp_path / "data", tiktok_client_key="tt-key",
                        tiktok_client_secret="tt-secret", tiktok_api_url=standin.url,
                        tiktok_chunk_mb=5, **extra)
    return TikTokPublisher(settings, poll_interval_s=0.0)


def a_request(tmp_path: Path, credentials: dict[str, Any], size: int) -> PublishRequest:
    video = tmp_path / "short.mp4"
    video.write_bytes(os.urandom(size))
    return PublishRequest(
        job_id="job-tt", brief=Brief.create("how tides work", "short"),
        script=Script(format="short", title="How tides work", hook="The moon pulls the sea.",
                      sections=[Section(text="Twice a day the sea rises.")],
                      description="Why the sea rises twice a day.", hashtags=["tides"]),
        files={"video": video}, credentials=credentials, frame=(1080, 1920), duration_s=40.0)


def test_inbox_upload_in_chunks_in_order(standin: TikTokStandIn, tmp_path: Path) -> None:
    size = 11 * MIB + 123  # two 5 MiB chunks, the last one takes the rest
    request = a_request(tmp_path, standin.issue_tokens(), size)
    publisher = publisher_for(standin, tmp_path)
    assert publisher.check(request) == []
    publication = publisher.publish(request)

    [upload] = standin.uploads.values()
    assert (upload.mode, upload.count, upload.chunk) == ("inbox", 2, 5 * MIB)
    assert bytes(upload.data) == request.files["video"].read_bytes()
    paths = [p for _, p in standin.requests]
    assert paths[0] == "/v2/post/publish/creator_info/query/"  # asked first
    assert paths[1:4] == ["/v2/post/publish/inbox/video/init/", "/upload/", "/upload/"]
    assert paths.count("/v2/post/publish/status/fetch/") == 2  # processing, then the inbox
    assert publication.meta["publish_id"] == upload.publish_id
    assert "TikTok app" in publication.meta["notice"]


def test_an_inbox_upload_needs_only_the_upload_scope(standin: TikTokStandIn,
                                                    tmp_path: Path) -> None:
    """creator_info needs video.publish; an account that granted video.upload alone still
    uploads to its inbox, and a direct post says which permission is missing."""
    tokens = standin.issue_tokens("user.info.basic,video.upload")
    publication = publisher_for(standin, tmp_path).publish(a_request(tmp_path, tokens, 2000))
    assert publication.meta["mode"] == "inbox" and len(standin.uploads) == 1
    with pytest.raises(PublishError) as caught:
        publisher_for(standin, tmp_path, tiktok_mode="direct").publish(
            a_request(tmp_path, tokens, 2000))
    assert "scope_not_authorized" in caught.value.user_message


def test_direct_post_of_an_unaudited_app_is_private_and_says_why(
        standin: TikTokStandIn, tmp_path: Path) -> None:
    request = a_request(tmp_path, standin.issue_tokens(), 300_000)
    with pytest.raises(PublishError) as caught:
        publisher_for(standin, tmp_path, tiktok_mode="direct",
                      tiktok_privacy="PUBLIC_TO_EVERYONE").publish(request)
    assert "SELF_ONLY" in caught.value.user_message and "audit" in caught.value.user_message
    assert standin.uploads == {}

    publication = publisher_for(standin, tmp_path, tiktok_mode="direct").publish(request)
    [upload] = standin.uploads.values()
    assert upload.post_info["privacy_level"] == "SELF_ONLY" and upload.post_info["is_aigc"]
    assert upload.post_info["disable_stitch"] is True  # the creator turned stitches off
    assert upload.post_info["title"].startswith("How tides work")
    assert "SELF_ONLY" in publication.meta["notice"] and publication.url == ""


def test_audited_public_post_has_its_url_and_metrics(standin: TikTokStandIn,
                                                      tmp_path: Path) -> None:
    standin.audited = True
    request = a_request(tmp_path, standin.issue_tokens(), 200_000)
    publisher = publisher_for(standin, tmp_path, tiktok_mode="direct",
                              tiktok_privacy="PUBLIC_TO_EVERYONE")
    publication = publisher.publish(request)
    assert publication.url == f"https://www.tiktok.com/@tides.explained/video/{publication.post_id}"
    assert publisher.metrics(publication, request.credentials) == {
        "views": 120.0, "likes": 9.0, "comments": 2.0, "shares": 1.0}


def test_a_privacy_the_account_lacks_is_refused_before_upload(standin: TikTokStandIn,
                                                                tmp_path: Path) -> None:
    standin.private_account = True
    with pytest.raises(PublishError) as caught:
        publisher_for(standin, tmp_path, tiktok_mode="direct",
                      tiktok_privacy="PUBLIC_TO_EVERYONE").publish(
            a_request(tmp_path, standin.issue_tokens(), 1000))
    assert "cannot post as PUBLIC_TO_EVERYONE" in caught.value.user_message
    assert not any(p.endswith("/video/init/") for _, p in standin.requests)


def test_a_retry_after_the_upload_finished_only_polls(standin: TikTokStandIn,
                                                      tmp_path: Path) -> None:
    saved: dict[str, Any] = {}
    request = a_request(tmp_path, standin.issue_tokens(), 100_000)
    request.save_progress = saved.update
    publisher = publisher_for(standin, tmp_path)
    first = publisher.publish(request)
    again = a_request(tmp_path, dict(request.credentials), 100_000)
    again.files["video"].write_bytes(request.files["video"].read_bytes())
    again.resume = dict(saved)
    assert publisher.publish(again).meta["publish_id"] == first.meta["publish_id"]
    assert len(standin.uploads) == 1


def test_an_upload_that_broke_off_starts_again_and_leaves_one_post(
        standin: TikTokStandIn, tmp_path: Path) -> None:
    size = 11 * MIB
    request = a_request(tmp_path, standin.issue_tokens(), size)
    publisher = publisher_for(standin, tmp_path)
    with httpx.Client(base_url=standin.url, headers={
            "Authorization": f"Bearer {request.credentials['access_token']}"}) as client:
        plan = chunk_plan(size, 5 * MIB)
        started = client.post("/v2/post/publish/inbox/video/init/", json={"source_info": {
            "source": "FILE_UPLOAD", "video_size": size, "chunk_size": plan.chunk_size,
            "total_chunk_count": plan.total_chunk_count}}).json()["data"]
        first, last = plan.ranges()[0]
        chunk = request.files["video"].read_bytes()[first:last + 1]
        assert httpx.put(started["upload_url"], content=chunk, headers={
            "Content-Type": "video/mp4",
            "Content-Range": f"bytes {first}-{last}/{size}"}).status_code == 206
    request.resume = {"publish_id": started["publish_id"], "size": size, "upload_done": False}
    publication = publisher.publish(request)
    assert publication.meta["publish_id"] != started["publish_id"]
    finished = [u for u in standin.uploads.values() if u.chunks == u.count]
    assert [u.publish_id for u in finished] == [publication.meta["publish_id"]]


def test_the_stand_in_refuses_a_plan_or_chunk_the_guide_forbids(standin: TikTokStandIn) -> None:
    headers = {"Authorization": f"Bearer {standin.issue_tokens()['access_token']}"}
    with httpx.Client(base_url=standin.url, headers=headers) as client:
        answer = client.post("/v2/post/publish/inbox/video/init/", json={"source_info": {
            "source": "FILE_UPLOAD", "video_size": 12 * MIB, "chunk_size": 4 * MIB,
            "total_chunk_count": 3}})
        assert answer.status_code == 400 and answer.json()["error"]["code"] == "invalid_params"
        ok = client.post("/v2/post/publish/inbox/video/init/", json={"source_info": {
            "source": "FILE_UPLOAD", "video_size": 12 * MIB, "chunk_size": 6 * MIB,
            "total_chunk_count": 2}}).json()["data"]
    second_first = httpx.put(ok["upload_url"], content=b"x" * (6 * MIB), headers={
        "Content-Type": "video/mp4", "Content-Range": f"bytes {6 * MIB}-{12 * MIB - 1}/{12 * MIB}"})
    assert second_first.status_code == 400  # out of order


def test_a_bad_token_or_missing_setup_is_one_line(standin: TikTokStandIn, tmp_path: Path) -> None:
    request = a_request(tmp_path, {"access_token": "act.forged"}, 1000)
    with pytest.raises(PublishError) as caught:
        publisher_for(standin, tmp_path).publish(request)
    assert caught.value.user_message == ("tiktok: TikTok refused the connected account's token: "
                                         "reconnect with /connect tiktok")
    bare = TikTokPublisher(Settings(_env_file=None, data_dir=tmp_path / "d"))
    request.credentials = {}
    problems = bare.check(request)
    assert any("ASSISTANT_TIKTOK_CLIENT_KEY" in p for p in problems)
    assert any("/connect tiktok" in p for p in problems)
