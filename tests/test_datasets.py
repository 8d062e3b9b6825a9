"""Data set lookup: path=, $XCNN_DATA_DIR, cache, verified download from a local HTTP server."""

import hashlib
import http.server
import io
import os
import threading

import numpy as np
import pytest

from xcnn import datasets


def _npz_bytes(n=5):
    buf = io.BytesIO()
    rng = np.random.default_rng(0)
    np.savez(
        buf,
        x_train=rng.integers(0, 256, (n, 28, 28), dtype=np.uint8),
        y_train=np.arange(n) % 10,
        x_test=rng.integers(0, 256, (2, 28, 28), dtype=np.uint8),
        y_test=np.array([1, 2]),
    )
    return buf.getvalue()


@pytest.fixture
def server():
    """An HTTP server on 127.0.0.1 serving ``files`` (name -> bytes) and counting requests."""
    files, hits = {}, []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            hits.append(self.path)
            body = files.get(self.path.lstrip("/"))
            if body is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/", files, hits
    httpd.shutdown()


@pytest.fixture
def tiny_spec(monkeypatch, tmp_path, server):
    url, files, hits = server
    data = _npz_bytes()
    files["tiny.npz"] = data
    spec = datasets.Spec(
        "tiny",
        (datasets.RemoteFile("tiny.npz", hashlib.sha256(data).hexdigest(), (url + "tiny.npz",)),),
        datasets._parse_npz,
    )
    monkeypatch.setitem(datasets.SPECS, "tiny", spec)
    monkeypatch.setenv("XCNN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("XCNN_DATA_DIR", raising=False)
    return spec, files, hits, tmp_path / "cache" / "tiny" / "tiny.npz"


def test_download_is_verified_and_cached(tiny_spec):
    spec, files, hits, cached = tiny_spec
    (x, y), (xt, yt) = datasets.load_data("tiny")
    assert x.shape == (5, 28, 28) and x.dtype == np.uint8 and yt.tolist() == [1, 2]
    assert cached.exists() and len(hits) == 1
    datasets.load_data("tiny")
    assert len(hits) == 1  # second load: from the cache, no request


def test_checksum_mismatch_is_refused_and_never_cached(tiny_spec):
    spec, files, hits, cached = tiny_spec
    files["tiny.npz"] = _npz_bytes(6)  # the server now serves other bytes
    with pytest.raises(FileNotFoundError, match="does not match the expected"):
        datasets.load_data("tiny")
    assert not cached.exists()
    assert not cached.parent.exists() or not any(cached.parent.iterdir())  # no partial file either


def test_corrupt_cache_is_replaced(tiny_spec):
    spec, files, hits, cached = tiny_spec
    cached.parent.mkdir(parents=True)
    cached.write_bytes(b"partial download")
    (x, _), _ = datasets.load_data("tiny")
    assert x.shape == (5, 28, 28) and len(hits) == 1
    assert hashlib.sha256(cached.read_bytes()).hexdigest() == spec.files[0].sha256


def test_offline_error_says_where_it_looked(tiny_spec, monkeypatch):
    spec, files, hits, cached = tiny_spec
    files.clear()
    with pytest.raises(FileNotFoundError) as info:
        datasets.load_data("tiny")
    message = str(info.value)
    assert "XCNN_DATA_DIR: not set" in message and str(cached) in message and "404" in message
    assert "load_data(path=" in message


def test_data_dir_and_path_come_first(tiny_spec, tmp_path, monkeypatch):
    spec, files, hits, cached = tiny_spec
    (tmp_path / "tiny.npz").write_bytes(_npz_bytes(3))
    monkeypatch.setenv("XCNN_DATA_DIR", str(tmp_path))
    assert datasets.load_data("tiny")[0][0].shape[0] == 3
    (tmp_path / "other.npz").write_bytes(_npz_bytes(4))
    assert datasets.load_data("tiny", path=str(tmp_path / "other.npz"))[0][0].shape[0] == 4
    assert hits == []
    with pytest.raises(FileNotFoundError, match="does not exist"):
        datasets.load_data("tiny", path=str(tmp_path / "missing.npz"))


def test_unknown_name_and_bad_files(tmp_path):
    with pytest.raises(ValueError, match="unknown data set"):
        datasets.load_data("imagenet")
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(ValueError, match="lacks the arrays"):
        datasets.load_data("mnist", path=str(tmp_path / "bad.npz"))


def test_real_mnist_when_present():
    folder = os.environ.get("XCNN_DATA_DIR")
    if not folder or not os.path.exists(os.path.join(folder, "mnist.npz")):
        pytest.skip("set XCNN_DATA_DIR to a folder with mnist.npz")
    (x, y), (xt, yt) = datasets.mnist.load_data()
    assert x.shape == (60000, 28, 28) and y.shape == (60000,) and xt.shape == (10000, 28, 28)
    assert x.dtype == np.uint8 and np.bincount(yt).tolist()[:3] == [980, 1135, 1032]
    images = datasets.prepare_images(xt[:3])
    assert images.shape == (3, 28, 28, 1) and images.dtype == np.float32 and images.max() <= 1.0


def test_idx_and_cifar_parsers():
    import gzip
    import tarfile

    labels = gzip.compress(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    assert datasets._idx(labels).tolist() == [7, 8, 9]
    images = gzip.compress(bytes([0, 0, 8, 3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3, 4]))
    assert datasets._idx(images).tolist() == [[[1, 2], [3, 4]]]
    record = bytes([3]) + bytes(range(256)) * 12  # label 3, then R, G and B planes
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name in [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]:
            info = tarfile.TarInfo(f"cifar-10-batches-bin/{name}")
            info.size = len(record)
            tar.addfile(info, io.BytesIO(record))
    arrays = datasets._parse_cifar10_binary({"c": buf.getvalue()})
    assert arrays["x_train"].shape == (5, 32, 32, 3) and arrays["y_test"].tolist() == [[3]]
    assert arrays["x_test"][0, 0, 1].tolist() == [1, 1, 1]


def _arrays(**changes):
    good = {
        "x_train": np.zeros((4, 28, 28), np.uint8),
        "y_train": np.array([0, 1, 2, 9], np.uint8),
        "x_test": np.zeros((2, 28, 28), np.uint8),
        "y_test": np.array([4, 5]),
    }
    return {**good, **changes}


@pytest.mark.parametrize(
    "changes, words",
    [
        (
            {"y_train": np.array([0.0, 1.0, 3.7, 2.0])},
            "y_train holds labels that are not whole numbers (1 of 4, the first 3.7)",
        ),
        ({"y_test": np.array([np.nan, 1.0])}, "y_test holds labels that are not whole numbers (1 of 2, the first nan)"),
        (
            {"y_train": np.eye(10)[:4]},
            "y_train must be class numbers of shape (N,) or (N, 1), got shape (4, 10) (one-hot",
        ),
        ({"y_train": np.array([b"a", b"b", b"c", b"d"])}, "y_train must be whole-number class labels 0..9, got |S1"),
        ({"y_train": np.array([True, False, True, True])}, "y_train must be whole-number class labels 0..9, got bool"),
        ({"y_test": np.array([0, 12])}, "y_test holds labels from 0 to 12; this data set has 10 classes"),
        ({"y_train": np.array([0, 1, 2])}, "y_train has 3 labels but x_train has 4 images"),
        ({"x_train": np.zeros((0, 28, 28), np.uint8), "y_train": np.zeros(0)}, "x_train holds no images"),
        ({"x_test": np.zeros((2, 784), np.uint8)}, "x_test must be images of shape (N, H, W) or (N, H, W, C)"),
        ({"x_test": np.zeros((2, 32, 32, 3), np.uint8)}, "x_test holds images of shape (32, 32, 3) but x_train"),
        ({"x_train": np.zeros((4, 28, 28), np.float32)}, "x_train must be uint8 pixels, got float32"),
    ],
)
def test_bad_arrays_are_refused_naming_the_file_and_the_array(tmp_path, changes, words):
    np.savez(tmp_path / "set.npz", **_arrays(**changes))
    with pytest.raises(ValueError) as info:
        datasets.load_data("mnist", path=str(tmp_path / "set.npz"))
    assert str(info.value).startswith(f"{tmp_path / 'set.npz'}: ") and words in str(info.value)


def test_labels_may_be_whole_floats_or_a_column_and_images_may_have_a_channel_axis(tmp_path):
    arrays = _arrays(
        y_train=np.array([[0.0], [1.0], [2.0], [9.0]]),
        x_train=np.zeros((4, 28, 28, 1), np.uint8),  # the same size as (N, 28, 28) test images
    )
    np.savez(tmp_path / "set.npz", **arrays)
    (x, y), (xt, yt) = datasets.load_data("mnist", path=str(tmp_path / "set.npz"))
    assert y.reshape(-1).astype(np.int64).tolist() == [0, 1, 2, 9] and xt.shape == (2, 28, 28)


def test_a_data_dir_that_is_a_file_is_named(tmp_path, monkeypatch):
    (tmp_path / "afile").write_text("x")
    monkeypatch.setenv("XCNN_DATA_DIR", str(tmp_path / "afile"))
    monkeypatch.setenv("XCNN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "_download", lambda url, timeout: (_ for _ in ()).throw(OSError("offline")))
    with pytest.raises(FileNotFoundError, match=r"\$XCNN_DATA_DIR: .*afile is a file, not a folder"):
        datasets.load_data("mnist")
