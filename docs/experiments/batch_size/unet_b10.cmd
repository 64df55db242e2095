python colorization.py --model UNet -e 5 -b 10 -l 0.001 -s 0 --lr-schedule cosine --experiment-name exp_batch_size_unet_b10
