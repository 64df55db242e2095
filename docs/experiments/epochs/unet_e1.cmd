python colorization.py --model UNet -e 1 -b 100 -l 0.001 -s 0 --lr-schedule cosine --experiment-name exp_epochs_unet_e1
