"""The issue's 'done when', on the real CLI and the real WordPress (wp_server.py):
ASSISTANT_PUBLISH_TO=wordpress and the site's URL, user and application password make
`assistant make "how tides work" -f blog --yes` publish a post whose title and body are the
script's, its featured image uploaded through /wp-json/wp/v2/media; `assistant show --json`
lists its URL and id; resuming again creates no second post.

The first run is given a wrong application password, so the publish step fails the way a
revoked password does (one line, the job resumable); the resume with the right one publishes.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from wp_server import WordPressSite

from tests.cli.helpers import artifact_files, assistant, query, show

pytestmark = pytest.mark.slow


def test_a_blog_is_published_on_wordpress_once(wordpress: WordPressSite, tmp_path: Path
                                               ) -> None:
    data = tmp_path / "data"
    env = {"ASSISTANT_PUBLISH_TO": "wordpress", "ASSISTANT_WORDPRESS_URL": wordpress.url,
           "ASSISTANT_PUBLISH_ALLOW_PRIVATE": "true",  # the real WordPress is on 127.0.0.1
           "ASSISTANT_WORDPRESS_USER": wordpress.user}
    wrong = assistant(data, "make", "how tides work", "-f", "blog", "--yes",
                      ASSISTANT_WORDPRESS_APP_PASSWORD="abcd efgh ijkl mnop qrst uvwx", **env)
    job_id = query(data, "select id from jobs")[0][0]
    assert wrong.returncode != 0
    refused = [line for line in (wrong.stdout + wrong.stderr).splitlines()
               if "wordpress" in line and "refused" in line]
    assert refused and "Traceback" not in wrong.stderr, wrong.stdout + wrong.stderr
    assert "abcd efgh" not in wrong.stdout + wrong.stderr  # never echoed
    assert show(data, job_id)["publications"][0]["status"] == "failed"

    right = {**env, "ASSISTANT_WORDPRESS_APP_PASSWORD": wordpress.app_password}
    resumed = assistant(data, "resume", job_id, "--yes", **right)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "Published" in resumed.stdout

    report = show(data, job_id)
    [published] = report["publications"]
    assert published["platform"] == "wordpress" and published["status"] == "published"
    assert published["url"].startswith(wordpress.url) and published["id"]
    script = json.loads(artifact_files(data, job_id)["script.json"].read_text("utf-8"))
    with wordpress.client() as client:
        post = client.get(f"/wp/v2/posts/{published['id']}", params={"context": "edit"}).json()
        assert post["title"]["raw"] == script["title"]
        assert post["link"] == published["url"] and post["status"] == "publish"
        for section in script["sections"]:
            assert section["heading"] in post["content"]["raw"]
        assert script["sections"][0]["text"].split(".")[0] in post["content"]["raw"]
        assert f"<h1>{script['title']}</h1>" not in post["content"]["raw"]
        media = client.get(f"/wp/v2/media/{post['featured_media']}").json()
        assert media["media_type"] == "image" and media["mime_type"] == "image/png"
        assert media["media_details"]["width"] == 1200
    assert "POST /wp-json/wp/v2/media" in wordpress.requests()
    assert "POST /wp-json/wp/v2/posts" in wordpress.requests()

    posts_before = wordpress.requests().count("POST /wp-json/wp/v2/posts")
    again = assistant(data, "resume", job_id, "--yes", **right)
    assert "nothing to resume" in again.stdout + again.stderr
    assert wordpress.requests().count("POST /wp-json/wp/v2/posts") == posts_before
    with wordpress.client() as client:
        slugged = client.get("/wp/v2/posts", params={"search": script["title"],
                                                     "status": "publish,draft,future"}).json()
    assert [p["id"] for p in slugged if p["slug"].endswith(job_id)] == [int(published["id"])]
