"""MLServer runtime for the churn model (Open Inference Protocol v2).

Built on mlserver-sklearn's SKLearnModel: the same outputs (`predict`,
`predict_proba`) and input layout (one FP64 tensor of shape [N, F] in feature
order), plus one 1-D tensor per feature named after it. What it adds:

- load: reads <CD4ML_MODEL_URI>/model.joblib once, checks its sha256 against
  CD4ML_MODEL_DIGEST and unpickles those same bytes; any problem leaves the
  model unready and says why in the log (so a release serves exactly the bytes
  its run produced, and never unpickles other bytes);
- every response: model_version, and parameters revision, release,
  model_version and request_id (also as x-cd4ml-* headers);
- Prometheus metrics (churn.metrics) on MLServer's metrics port;
- POST /feedback {"id": "<request_id>", "outcome": 0|1} scored statelessly
  (churn.feedback).

Started by `python -m churn.serve` (serving/churn/model-settings.json names this class).
"""

import io
import os
import time

import joblib
import numpy as np
from fastapi import Request
from mlserver.codecs import NumpyCodec
from mlserver.errors import InferenceError, MLServerError
from mlserver.handlers import custom_handler
from mlserver.logging import logger
from mlserver.types import InferenceRequest, InferenceResponse, MetadataTensor, Parameters
from mlserver_sklearn import SKLearnModel
from prometheus_client import REGISTRY

from churn import artifacts, feedback
from churn.metrics import Identity, ServingMetrics

OUTPUTS = ("predict", "predict_proba")

# Why the model could not be loaded, for churn.serve's exit status and
# termination message ("" while nothing failed).
load_failure = ""


class ModelLoadError(Exception):
    pass


def read_verified(uri: str, expected_digest: str) -> tuple[str, bytes]:
    """(path, bytes) of the model file, whose digest must be expected_digest."""
    path = os.path.join(artifacts.local_path(uri, "CD4ML_MODEL_URI"), artifacts.MODEL_FILE)
    content, actual = artifacts.read(path, path)
    if not expected_digest:
        logger.warning(f"CD4ML_MODEL_DIGEST is not set: serving {path} ({actual}) unverified")
    elif not artifacts.DIGEST_PATTERN.match(expected_digest):
        raise ModelLoadError(f"CD4ML_MODEL_DIGEST={expected_digest!r} is not sha256:<64 lower-case hex>")
    elif actual != expected_digest:
        raise ModelLoadError(f"model digest mismatch: {path} has {actual}, CD4ML_MODEL_DIGEST is {expected_digest}")
    return path, content


class ChurnModel(SKLearnModel):
    _metrics = None

    async def load(self) -> bool:
        global load_failure
        identity = Identity.from_env()
        try:
            path, content = read_verified(os.environ.get("CD4ML_MODEL_URI", ""), os.environ.get("CD4ML_MODEL_DIGEST", ""))
            # Unpickle the bytes that were checked, not the file again.
            estimator = joblib.load(io.BytesIO(content))
            features = list(getattr(estimator, "cd4ml_feature_names_", []))
            baseline = getattr(estimator, "cd4ml_baseline_", None)
            if not features or not baseline or 1 not in getattr(estimator, "classes_", []):
                raise ModelLoadError(f"{path} is not a churn classifier made by churn.train (no cd4ml_ attributes)")
        except Exception as e:
            # MLServer logs "Couldn't load model" and shuts the server down;
            # churn.serve then exits 1: the pod never becomes ready, and this
            # line and the termination message say why.
            load_failure = str(e)
            logger.error(f"model {self.name} not loaded, it will not become ready: {e}")
            raise
        if not identity.model_version:
            lineage = getattr(estimator, "cd4ml_lineage_", {})
            identity = Identity(identity.release, identity.revision, lineage.get("modelVersion", ""))
        self._model = estimator
        self._positive = list(estimator.classes_).index(1)
        self._features = features
        self._identity = identity
        self.inputs = [MetadataTensor(name=f, datatype="FP64", shape=[-1]) for f in features]
        self._register_metrics(ServingMetrics(identity, features, baseline))
        logger.info(
            f"model {self.name} ready: {path}, model version {identity.model_version or '(unset)'}, "
            f"revision {identity.revision or '(unset)'}, release {identity.release or '(unset)'}"
        )
        return True

    def _register_metrics(self, metrics: ServingMetrics) -> None:
        self._unregister_metrics()
        REGISTRY.register(metrics)
        self._metrics = metrics

    def _unregister_metrics(self) -> None:
        if self._metrics is not None:
            REGISTRY.unregister(self._metrics)
            self._metrics = None

    async def unload(self) -> bool:
        self._unregister_metrics()
        return True

    async def predict(self, payload: InferenceRequest) -> InferenceResponse:
        started = time.perf_counter()
        try:
            X = self._feature_matrix(payload)
            requested = [o.name for o in payload.outputs or []] or list(OUTPUTS)
            unknown = sorted(set(requested) - set(OUTPUTS))
            if unknown:
                raise InferenceError(f"unknown outputs {unknown}; this model has {list(OUTPUTS)}")
            probabilities = self._model.predict_proba(X)
            churn_probability = probabilities[:, self._positive]
            # The class of the higher probability, as sklearn's predict (ties to 0).
            predicted = (churn_probability > 0.5).astype(np.int64)
            response = self._response(payload, requested, predicted, probabilities)
        except MLServerError as e:
            self._metrics.observe_request(e.status_code, time.perf_counter() - started)
            raise
        except Exception:
            self._metrics.observe_request(500, time.perf_counter() - started)
            raise
        self._metrics.observe_request(200, time.perf_counter() - started, X, churn_probability)
        return response

    def _feature_matrix(self, payload: InferenceRequest) -> np.ndarray:
        by_name = {i.name: i for i in payload.inputs}
        try:
            if len(payload.inputs) == 1 and payload.inputs[0].name not in self._features:
                matrix = NumpyCodec.decode_input(payload.inputs[0])
                matrix = matrix.reshape(1, -1) if matrix.ndim == 1 else matrix
                if matrix.ndim != 2 or matrix.shape[1] != len(self._features):
                    raise InferenceError(
                        f"input {payload.inputs[0].name!r} has shape {list(matrix.shape)}; expected "
                        f"[N, {len(self._features)}] with columns {self._features}, or one input per feature"
                    )
            else:
                unknown = sorted(set(by_name) - set(self._features))
                missing = [f for f in self._features if f not in by_name]
                if unknown or missing or len(by_name) != len(payload.inputs):
                    raise InferenceError(
                        f"inputs must be one tensor per feature, each once; missing {missing}, unknown {unknown}"
                    )
                columns = [NumpyCodec.decode_input(by_name[f]).reshape(-1) for f in self._features]
                if len({len(c) for c in columns}) != 1:
                    raise InferenceError("feature inputs have different lengths")
                matrix = np.column_stack(columns)
            matrix = matrix.astype(np.float64)
        except InferenceError:
            raise
        except (ValueError, TypeError) as e:
            raise InferenceError(f"inputs cannot be read as numbers: {e}") from None
        if matrix.shape[0] == 0 or not np.isfinite(matrix).all():
            raise InferenceError("inputs must hold at least one row of finite numbers")
        return matrix

    def _response(self, payload, requested, predicted, probabilities) -> InferenceResponse:
        identity = self._identity
        request_id = feedback.issue_request_id(identity, payload.id or "", predicted.tolist())
        arrays = {"predict": predicted, "predict_proba": probabilities}
        return InferenceResponse(
            model_name=self.name,
            model_version=identity.model_version or None,
            outputs=[NumpyCodec.encode_output(name, arrays[name]) for name in requested],
            parameters=Parameters(
                release=identity.release,
                revision=identity.revision,
                model_version=identity.model_version,
                request_id=request_id,
                # MLServer turns parameters.headers into HTTP response headers.
                headers={
                    "x-cd4ml-revision": identity.revision,
                    "x-cd4ml-model-version": identity.model_version,
                    "x-cd4ml-request-id": request_id,
                },
            ),
        )

    @custom_handler(rest_path="/feedback")
    async def post_feedback(self, request: Request) -> dict:
        if self._metrics is None:
            raise MLServerError("model not loaded yet", status_code=503)
        try:
            body = await request.json()
        except ValueError:
            raise MLServerError("feedback body is not JSON") from None
        try:
            predicted_by, correct = feedback.score(body)
        except feedback.FeedbackError as e:
            raise MLServerError(str(e)) from None
        self._metrics.observe_outcome(predicted_by, correct)
        return {"correct": correct, "revision": predicted_by.revision, "modelVersion": predicted_by.model_version}
