"""A request body larger than MAX_CONTENT_LENGTH is refused before it is read, with a plain page."""

import pytest


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True}


@pytest.mark.parametrize("path", ["/admin/login", "/subscribe"])
def test_a_five_megabyte_post_answers_413_with_the_page(client, path):
    # (How fast is a benchmark's question, not a unit test's: a timed assertion here failed on a
    # loaded machine.)
    response = client.post(
        path,
        data=b"email=" + b"a" * (5 * 1024 * 1024),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "Too much was sent" in response.text
    assert "no-store" in response.headers["Cache-Control"]


def test_a_form_of_ordinary_size_is_not_refused(client):
    response = client.post("/subscribe", data={"email": "citizen@example.org"})
    assert response.status_code != 413


def test_the_limit_is_one_megabyte(app):
    assert app.config["MAX_CONTENT_LENGTH"] == 1024 * 1024
