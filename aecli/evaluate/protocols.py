"""What each reported number is, and what it may be set beside."""

IWAE_PAPER = "Burda et al. 2016, one stochastic layer: VAE 86.76, IWAE (k = 50) 84.78 nats"


def protocols(metrics: dict) -> dict[str, str]:
    """What each reported number is, and what it may be set beside."""
    binarized = metrics.get("binarized")
    levels = "grey-level pixels" if metrics.get("channels", 1) == 1 else "pixel intensities of every colour channel"
    pixels = "a fixed Bernoulli draw of the test images (dynamic binarization)" if binarized else levels
    out = {
        "mse": "mean squared error per pixel of test reconstructions, pixels in [0, 1]",
        "psnr_db": "10 log10(1 / mse); reconstructions of the test split",
        "ssim": "mean structural similarity of test reconstructions (scikit-image, data range 1)",
    }
    if "refine_steps" in metrics:
        out["refine_steps"] = (
            "the reconstructions are drawn from codes refined by this many Adam steps on each test face's own "
            "squared error, the decoder fixed (as PCA projects each face onto its components); encoder_*: the "
            "same scores from the encoder's codes alone"
        )
    if "pca_psnr_db" in metrics:
        out["pca_psnr_db"] = (
            f"PCA with {metrics['pca_components']} components (as many as the latent) fitted on the training "
            "split (with its mirror images where training mirrors them), same test images: the eigenfaces "
            "floor the autoencoder must beat"
        )
    if metrics.get("test_images") != metrics.get("test_split_images"):
        pixels += f", the first {metrics.get('test_images'):,} of {metrics.get('test_split_images'):,} test images"
    if "neg_elbo" in metrics:
        out["neg_elbo"] = f"negative ELBO (k = 1) per test image in nats, on {pixels}"
        k = metrics["iwae_samples"]
        if binarized and metrics.get("dataset") == "mnist":
            out["iwae_nll"] = f"test NLL in nats, importance-weighted bound with k = {k}, on {pixels}: " + (
                f"the IWAE paper's protocol ({IWAE_PAPER})" if k >= 5000 else f"the paper used k = 5000 ({IWAE_PAPER})"
            )
        elif binarized:
            out["iwae_nll"] = f"test NLL in nats, importance-weighted bound with k = {k}, on {pixels}"
        else:
            out["iwae_nll"] = (
                f"importance-weighted bound with k = {k} on grey-level pixels under a Bernoulli decoder: "
                "not a likelihood, not comparable to published NLLs (use --binarize for that)"
            )
    if "classifier_fid" in metrics:
        out["classifier_fid"] = (
            "Frechet distance between aecli's judge-classifier features of prior samples (their latents scaled by "
            f"sample_temperature, {metrics.get('sample_temperature', 1.0)}) and of the training split; comparable only "
            "with other classifier FIDs from aecli at the same temperature, not with Inception FID"
        )
        out["classifier_fid_test_set"] = "the same distance for the real test images: the floor a perfect model reaches"
    if "attribute_edit" in metrics:
        out["attribute_edit"] = (
            "test faces without the attribute moved along its direction: a pixel logistic-regression judge's "
            "P(attribute) before and after (judge_test_auc: how far to trust it), identity_kept: share of edited "
            "faces still nearest their own reconstruction, latent_auc: the direction as a linear classifier of "
            "test codes (White 2016)"
        )
    if "gan_test" in metrics:
        out.update(class_protocols(metrics))
    return out


def class_protocols(metrics: dict) -> dict[str, str]:
    """What a class model's GAN-test and CAS are."""
    count = metrics["gan_test_images_per_class"]
    return {
        "gan_test": f"GAN-test: the judge's accuracy on {count} images generated per class (Shmelkov et al. 2018)",
        "cas": (
            "Classification Accuracy Score: a classifier trained only on generated images, tested on the real "
            "test split (Ravuri & Vinyals 2019); compare with judge_test_accuracy, the same classifier trained "
            "on real images"
        ),
    }
