python colorization.py --task superres --loss mse --residual --model UNet -f 64 -e 20 -b 25 -l 0.002 --amp -s 0 --lr-schedule cosine --augment hflip --experiment-name exp_superres_unet_f64 --overwrite
python colorization.py --task superres --loss mse --residual --model UNet -f 64 --checkpoint outputs/exp_superres_unet_f64/weights.pkl --valid
