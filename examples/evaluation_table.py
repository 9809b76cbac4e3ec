"""Print the README's evaluation table from the JSON that examples/evaluation_report.sh wrote."""

import json
import sys
from pathlib import Path


def main() -> None:
    folder = Path(sys.argv[1] if len(sys.argv) > 1 else "evaluation-report")
    vae = json.loads((folder / "eval_vae_binarized.json").read_text())
    cvae = json.loads((folder / "eval_cvae.json").read_text())
    ae = json.loads((folder / "eval_ae.json").read_text())
    edit = ae.get("attribute_edit", {})
    rows = [
        (
            "vae, binarized MNIST",
            "test NLL, k = 5000 (nats)",
            f"{vae['iwae_nll']:.2f}",
            "IWAE paper VAE 86.76, IWAE 84.78",
        ),
        ("vae, binarized MNIST", "-ELBO (nats)", f"{vae['neg_elbo']:.2f}", "an upper bound on the NLL above"),
        ("vae", "classifier FID", f"{vae['classifier_fid']:.2f}", f"test set {vae['classifier_fid_test_set']:.2f}"),
        (
            "cvae, MNIST",
            "classifier FID",
            f"{cvae['classifier_fid']:.2f}",
            f"test set {cvae['classifier_fid_test_set']:.2f}",
        ),
        (
            "cvae",
            "GAN-test, weakest digit",
            f"{cvae['gan_test_min']:.3f}",
            f"judge on real test {cvae['judge_test_accuracy']:.3f}",
        ),
        ("cvae", "CAS", f"{cvae['cas']:.3f}", f"same recipe on real images {cvae['cas_real_images']:.3f}"),
        (
            "ae, LFW",
            "PSNR (dB)",
            f"{ae['psnr_db']:.2f}",
            f"PCA, {ae['pca_components']} components: {ae['pca_psnr_db']:.2f}",
        ),
        ("ae", "SSIM", f"{ae['ssim']:.3f}", f"PCA: {ae['pca_ssim']:.3f}"),
    ]
    if edit:
        rows += [
            (
                "ae",
                f"{edit['attribute']} edit: judge P before -> after",
                f"{edit['judge_probability_before']:.3f} -> {edit['judge_probability_after']:.3f}",
                f"pixel judge test AUC {edit['judge_test_auc']:.3f}",
            ),
            (
                "ae",
                "identity kept after the edit",
                f"{edit['identity_kept']:.3f}",
                "share still nearest their own face",
            ),
            ("ae", f"{edit['attribute']} vector as a classifier (AUC)", f"{edit['latent_auc']:.3f}", "0.5 is chance"),
        ]
    print("| model | figure | aecli | set beside |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
