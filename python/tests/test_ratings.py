"""The ratings RBM estimator (collaborative filtering): fit, predict,
score, recommend, files shared with the command line, pickling and
refusals. Small synthetic low-rank ratings: seconds on a 2-core CPU."""
import os
import pickle
import subprocess

import numpy as np
import pytest

import boltzcl

SMALL = dict(device="cpu", random_state=0)


def low_rank_ratings(n_users=40, n_items=30, density=0.6, seed=0):
    """Ratings 1..5 from a rank-2 taste model, ids far from dense indexes;
    returns (train, test) triples."""
    rng = np.random.RandomState(seed)
    a = rng.randn(n_users, 2)
    b = rng.randn(n_items, 2)
    full = np.clip(np.rint(3 + 1.2 * (a @ b.T)), 1, 5)
    mask = rng.rand(n_users, n_items) < density
    u, i = np.nonzero(mask)
    X = np.column_stack([1000 + 3 * u, 70000 + 5 * i, full[u, i]]).astype(np.float64)
    idx = rng.permutation(len(X))
    n_test = len(X) // 10
    return X[idx[n_test:]], X[idx[:n_test]]


@pytest.fixture(scope="module")
def data():
    return low_rank_ratings()


@pytest.fixture(scope="module")
def fitted(data):
    train, _ = data
    return boltzcl.RatingsRBM(n_components=16, n_iter=15, batch_size=8, **SMALL).fit(train)


def global_mean_rmse(train, X):
    return float(np.sqrt(np.mean((X[:, 2] - train[:, 2].mean()) ** 2)))


def test_ratings_fit_predict_score(data, fitted):
    train, test = data
    p = fitted.predict(test[:, :2])
    assert p.shape == (len(test),) and p.dtype == np.float32
    assert np.all((p >= 1 - 1e-5) & (p <= 5 + 1e-5))
    rmse = float(np.sqrt(np.mean((p - test[:, 2]) ** 2)))
    assert fitted.score(test) == pytest.approx(-rmse, rel=1e-5)
    assert fitted.rmse(test) == pytest.approx(rmse, rel=1e-5)
    assert 0 < fitted.mae(test) <= rmse + 1e-9
    # better than predicting the global mean, on training and held-out ratings
    assert fitted.rmse(train) < 0.8 * global_mean_rmse(train, train)
    assert rmse < global_mean_rmse(train, test)
    assert fitted.rating_scale_ == (1.0, 5.0, 1.0)
    assert fitted.mean_rating_ == pytest.approx(train[:, 2].mean(), rel=1e-5)
    assert set(fitted.user_ids_) == set(train[:, 0].astype(int))


def test_ratings_user_based_and_unknown_ids(data):
    train, test = data
    m = boltzcl.RatingsRBM(n_components=8, item_based=False, n_iter=10, batch_size=8,
                           **SMALL).fit(train)
    assert m.rmse(train) < global_mean_rmse(train, train)
    p = m.predict([[5, 70000], [1000, 3]])  # a user, then an item, never seen
    assert p == pytest.approx([m.mean_rating_] * 2, rel=1e-5)


def test_ratings_recommend_excludes_rated(data, fitted):
    train, _ = data
    user = int(train[0, 0])
    rated = set(train[train[:, 0] == user, 1].astype(int))
    items, r = fitted.recommend(user, n=1000)
    assert len(items) == len(fitted.item_ids_) - len(rated)
    assert not rated & set(items.tolist())
    assert np.all(np.diff(r) <= 0)
    pairs = np.column_stack([np.full(len(items), user), items])
    assert fitted.predict(pairs) == pytest.approx(r, abs=1e-5)
    top, _ = fitted.recommend(user, n=3)
    assert top.tolist() == items[:3].tolist()
    with pytest.raises(ValueError, match="user 7 is not in the model"):
        fitted.recommend(7)
    with pytest.raises(ValueError, match="user must be a user id"):
        fitted.recommend(-1)


def test_ratings_save_load_pickle(tmp_path, data, fitted):
    _, test = data
    path = tmp_path / "cf.safetensors"
    fitted.save(path)
    back = boltzcl.load(path)
    assert isinstance(back, boltzcl.RatingsRBM)
    assert back.n_components == 16 and back.item_based and back.n_iter == 15
    np.testing.assert_array_equal(back.predict(test[:, :2]), fitted.predict(test[:, :2]))
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(test[:, :2]), fitted.predict(test[:, :2]))
    assert again.get_params() == fitted.get_params()


def test_ratings_refusals(data):
    train, _ = data
    m = boltzcl.RatingsRBM(n_components=4, n_iter=1, **SMALL)
    bad = train.copy()
    bad[3, 2] = np.nan
    with pytest.raises(ValueError, match="row 3 .*not finite"):
        m.fit(bad)
    bad = train.copy()
    bad[5, 2] = 2.7  # neither whole nor half stars
    with pytest.raises(ValueError, match="row:5: rating 2.7 is outside the scale"):
        m.fit(bad)
    bad[5, 2] = 7
    with pytest.raises(ValueError, match="outside the scale 1 to 5"):
        boltzcl.RatingsRBM(n_components=4, n_iter=1, rating_scale=(1, 5, 1), **SMALL).fit(bad)
    with pytest.raises(ValueError, match="outside the scale"):
        boltzcl.RatingsRBM(n_components=4, n_iter=1, rating_scale=(1, 4, 1), **SMALL).fit(train)
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        m.fit(train[:, :2])
    with pytest.raises(ValueError, match="user ids"):
        m.fit(np.array([[-1, 2, 3.0], [1, 2, 3.0]]))
    dup = np.vstack([train[:5], train[:1]])
    with pytest.raises(ValueError, match="more than once"):
        m.fit(dup)
    with pytest.raises(ValueError, match="n_components"):
        boltzcl.RatingsRBM(n_components=0, **SMALL).fit(train)
    m.fit(train[:50])
    with pytest.raises(ValueError, match=r"shape \(n, 2\)"):
        m.predict(train[:3])
    with pytest.raises(ValueError, match=r"shape \(n, 3\)"):
        m.score(train[:3, :2])


def test_ratings_half_stars_scale():
    X = np.array([[1, 1, 0.5], [1, 2, 4.5], [2, 1, 3.0], [2, 3, 5.0], [3, 2, 1.5]])
    m = boltzcl.RatingsRBM(n_components=4, n_iter=2, batch_size=2, **SMALL).fit(X)
    assert m.rating_scale_ == (0.5, 5.0, 0.5)


@pytest.mark.skipif(not os.environ.get("BOLTZCL_CLI"), reason="BOLTZCL_CLI (the boltzcl command) "
                    "not set; tools/check_python.sh sets it")
def test_ratings_command_reads_python_files(tmp_path, data, fitted):
    import json
    _, test = data
    path = tmp_path / "cf.safetensors"
    fitted.save(path)
    ratings = tmp_path / "test.csv"
    with open(ratings, "w") as f:
        f.write("user,item,rating\n")
        for u, i, r in test:
            f.write(f"{int(u)},{int(i)},{r:g}\n")
    cli = os.environ["BOLTZCL_CLI"]
    out = subprocess.run([cli, "eval", "--model", str(path), "--ratings", str(ratings),
                          "--json"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["rmse"] == pytest.approx(fitted.rmse(test), rel=1e-4)
    user = int(test[0, 0])
    out = subprocess.run([cli, "recommend", "--model", str(path), "--user", str(user),
                          "--top", "5", "--json"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    items, _ = fitted.recommend(user, n=5)
    assert [e["item"] for e in json.loads(out.stdout)["items"]] == items.tolist()


def test_ratings_stop_request_ends_training(monkeypatch, data):
    """A stop request (what Ctrl-C sends through run_interruptible) ends
    training after the current batch; the model stays usable."""
    train, test = data
    from boltzcl import ratings

    class StopAfterFirstEpoch(ratings.Progress):
        def epoch(self, text):
            boltzcl._native.bz_request_stop(2)

    monkeypatch.setattr(ratings, "Progress", StopAfterFirstEpoch)
    m = boltzcl.RatingsRBM(n_components=4, n_iter=50, batch_size=8, **SMALL)
    with pytest.raises(boltzcl.TrainingInterrupted):
        m.fit(train)
    assert boltzcl._native.bz_stop_requested() == 0
    assert np.all(np.isfinite(m.predict(test[:, :2])))
