"""The media bucket as the media pipeline needs it: private, encrypted, TLS only, objects expiring, and
pre-signed uploads never completed removed after a day."""

from __future__ import annotations

import pytest
from support.cdk import Synth

from bzapper.domain.media import UPLOADS_PREFIX

pytestmark = pytest.mark.xdist_group("infra")


def _media_bucket(synth: Synth) -> dict:
    [bucket] = [
        resource
        for resource in synth.resources("AWS::S3::Bucket").values()
        if resource["Properties"].get("BucketName") == synth.config.name("media")
    ]
    return bucket["Properties"]


def test_the_media_bucket_is_private_encrypted_and_expires_media_and_unfinished_uploads(synth: Synth) -> None:
    props = _media_bucket(synth)
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    [encryption] = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")
    assert props["OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    rules = {rule["Id"]: rule for rule in props["LifecycleConfiguration"]["Rules"]}
    media = rules["expire-media"]
    assert media["Status"] == "Enabled" and "Prefix" not in media
    assert media["ExpirationInDays"] == synth.config.media_expiry_days
    assert media["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 1}
    uploads = rules["expire-unfinished-uploads"]
    assert (uploads["Status"], uploads["Prefix"], uploads["ExpirationInDays"]) == ("Enabled", UPLOADS_PREFIX, 1)


def test_the_media_bucket_lets_a_browser_read_a_pre_signed_url_and_nothing_more(synth: Synth) -> None:
    """The console fetches GET /media/{id}'s redirect to show a photo: reads only, no credentials sent."""
    [rule] = _media_bucket(synth)["CorsConfiguration"]["CorsRules"]
    assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD"]
    assert "AllowedHeaders" not in rule and rule["AllowedOrigins"] == ["*"]
